//! [`OffersField`]: an announce's `offers`, read in the same pass as the rest of the message.
//!
//! Offers are most of an announce's bytes (each carries an SDP of a few hundred). Read as a raw
//! slice and parsed again, they would be scanned three times (the message, the list, each
//! offer); read here, once. Any shape is accepted by serde (so that a wrong one is a failure
//! naming `offers`, not a JSON error) and judged by [`OffersField::offers`].

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{BadMessage, Offer};

/// `offers` as sent: a list, or a value of another type.
pub(super) enum OffersField<'a> {
    List(Vec<OfferItem<'a>>),
    NotAList,
}

/// One element of `offers`: an object (its `offer` and `offer_id` as JSON text), or not.
pub(super) enum OfferItem<'a> {
    Object { offer: Option<&'a RawValue>, offer_id: Option<&'a RawValue> },
    NotAnObject,
}

impl<'a> OffersField<'a> {
    /// The offers, or the failure naming what is wrong.
    pub(super) fn offers(self) -> Result<Vec<Offer<'a>>, BadMessage> {
        let OffersField::List(items) = self else { return Err(BadMessage::Field("offers")) };
        items
            .into_iter()
            .map(|item| match item {
                OfferItem::Object { offer, offer_id } => Ok(Offer {
                    offer: offer.ok_or(BadMessage::Missing("offer"))?,
                    offer_id: offer_id.ok_or(BadMessage::Missing("offer_id"))?,
                }),
                OfferItem::NotAnObject => Err(BadMessage::Field("offers")),
            })
            .collect()
    }
}

/// The keys of an offer object the tracker reads.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Offer,
    OfferId,
    #[serde(other)]
    Other,
}

/// The visitor methods of the JSON values a visitor does not look into: each is `$value`.
macro_rules! any_other_value_is {
    ($value:expr) => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

impl<'de: 'a, 'a> Deserialize<'de> for OffersField<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Field<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Field<'a> {
            type Value = OffersField<'a>;

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<OfferItem<'a>>()? {
                    items.push(item);
                }
                Ok(OffersField::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(OffersField::NotAList)
            }
            any_other_value_is!(OffersField::NotAList);
        }
        d.deserialize_any(Field(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for OfferItem<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Item<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Item<'a> {
            type Value = OfferItem<'a>;

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut offer, mut offer_id) = (None, None);
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Offer => offer = map.next_value::<Option<&'a RawValue>>()?,
                        Key::OfferId => offer_id = map.next_value::<Option<&'a RawValue>>()?,
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(OfferItem::Object { offer, offer_id })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(OfferItem::NotAnObject)
            }
            any_other_value_is!(OfferItem::NotAnObject);
        }
        d.deserialize_any(Item(PhantomData))
    }
}
