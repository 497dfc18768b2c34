//! The bencode decoder: never panics; whatever it accepts is canonical, so writing the decoded
//! value back gives exactly the input, and every dictionary entry's `raw` bytes are its value's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_core::bencode::{Value, decode};

fn write(v: &Value<'_>, out: &mut Vec<u8>) {
    match v {
        Value::Int(i) => out.extend_from_slice(format!("i{i}e").as_bytes()),
        Value::Bytes(b) => {
            out.extend_from_slice(format!("{}:", b.len()).as_bytes());
            out.extend_from_slice(b);
        }
        Value::List(items) => {
            out.push(b'l');
            items.iter().for_each(|item| write(item, out));
            out.push(b'e');
        }
        Value::Dict(entries) => {
            out.push(b'd');
            for e in entries {
                write(&Value::Bytes(e.key), out);
                let start = out.len();
                write(&e.value, out);
                assert_eq!(&out[start..], e.raw, "an entry's raw bytes are its value's");
            }
            out.push(b'e');
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode(data) {
        let mut out = Vec::with_capacity(data.len());
        write(&value, &mut out);
        assert_eq!(out, data, "decode then encode gives the input back");
    }
});
