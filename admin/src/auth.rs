//! Bearer-token check: the token goes in `Authorization: Bearer …`, never in a URL (URLs end up
//! in logs and browser histories). Compared in constant time: both sides are hashed with SHA-256
//! first, so neither the comparison nor its length depends on where the first wrong byte is.

use http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};

/// The admin token, kept as its digest.
#[derive(Clone)]
pub(crate) struct Token([u8; 32]);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    pub(crate) fn new(token: &str) -> Token {
        Token(Sha256::digest(token.as_bytes()).into())
    }

    fn matches(&self, candidate: &[u8]) -> bool {
        let theirs: [u8; 32] = Sha256::digest(candidate).into();
        let diff = self.0.iter().zip(theirs.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // black_box: keep the optimizer from turning the fold into an early exit.
        std::hint::black_box(diff) == 0
    }
}

/// Query parameter names that look like a credential: refused even when right.
const TOKEN_PARAMS: [&str; 4] = ["token", "access_token", "api_key", "bearer"];

/// Why a request is not let in: the status and a message.
pub(crate) fn check(token: &Token, headers: &HeaderMap, query: Option<&str>) -> Result<(), (StatusCode, String)> {
    let in_query = query.is_some_and(|q| {
        q.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            TOKEN_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p))
        })
    });
    if in_query {
        return Err((
            StatusCode::UNAUTHORIZED,
            "a token in the query string is refused (URLs end up in logs): send `Authorization: Bearer TOKEN`".into(),
        ));
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err((StatusCode::UNAUTHORIZED, "missing `Authorization: Bearer TOKEN` header".into()));
    };
    let bytes = value.as_bytes();
    let Some(candidate) =
        bytes.get(..7).filter(|s| s.eq_ignore_ascii_case(b"bearer ")).map(|_| bytes[7..].trim_ascii())
    else {
        return Err((StatusCode::UNAUTHORIZED, "the Authorization header must be `Bearer TOKEN`".into()));
    };
    if token.matches(candidate) { Ok(()) } else { Err((StatusCode::FORBIDDEN, "wrong admin token".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn bearer_token_checked_and_query_tokens_refused() {
        let token = Token::new("s3cret");
        assert!(check(&token, &headers("Bearer s3cret"), None).is_ok());
        assert!(check(&token, &headers("bearer s3cret"), Some("limit=3")).is_ok());
        assert_eq!(check(&token, &headers("Bearer s3cre"), None).unwrap_err().0, StatusCode::FORBIDDEN);
        assert_eq!(check(&token, &headers("Basic s3cret"), None).unwrap_err().0, StatusCode::UNAUTHORIZED);
        assert_eq!(check(&token, &HeaderMap::new(), None).unwrap_err().0, StatusCode::UNAUTHORIZED);
        let refused = check(&token, &headers("Bearer s3cret"), Some("limit=1&token=s3cret")).unwrap_err();
        assert_eq!(refused.0, StatusCode::UNAUTHORIZED);
        assert!(refused.1.contains("query string"), "{}", refused.1);
    }
}
