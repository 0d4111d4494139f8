//! A token's header or payload as a JSON object whose member names are all
//! distinct: RFC 7515 §4 lets a parser reject duplicates, and we do, so no
//! two readers of the same token can disagree on a claim.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, Error, MapAccess, Visitor};
use serde_json::{Map, Value};

/// The base64url segment decoded and parsed, or why not.
pub fn object(segment: &str, what: Part) -> Result<Map<String, Value>, &'static str> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| what.not_base64())?;
    serde_json::from_slice::<Distinct>(&bytes)
        .map(|distinct| distinct.0)
        .map_err(|error| {
            if error.to_string().starts_with(DUPLICATE) {
                what.duplicate()
            } else {
                what.not_object()
            }
        })
}

const DUPLICATE: &str = "duplicate member name";

/// Which segment, for the error text.
#[derive(Clone, Copy)]
pub enum Part {
    Header,
    Payload,
}

impl Part {
    fn not_base64(self) -> &'static str {
        match self {
            Self::Header => "header is not base64url",
            Self::Payload => "payload is not base64url",
        }
    }

    fn not_object(self) -> &'static str {
        match self {
            Self::Header => "header is not a JSON object",
            Self::Payload => "payload is not a JSON object",
        }
    }

    fn duplicate(self) -> &'static str {
        match self {
            Self::Header => "header has a member name twice",
            Self::Payload => "payload has a claim name twice",
        }
    }
}

struct Distinct(Map<String, Value>);

impl<'de> Deserialize<'de> for Distinct {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DistinctVisitor)
    }
}

struct DistinctVisitor;

impl<'de> Visitor<'de> for DistinctVisitor {
    type Value = Distinct;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with distinct member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Distinct, A::Error> {
        let mut map = Map::new();
        while let Some((name, value)) = access.next_entry::<String, Value>()? {
            if map.contains_key(&name) {
                return Err(A::Error::custom(DUPLICATE));
            }
            map.insert(name, value);
        }
        Ok(Distinct(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    fn parse(json: &str) -> Result<Map<String, Value>, &'static str> {
        object(&URL_SAFE_NO_PAD.encode(json), Part::Payload)
    }

    #[test]
    fn objects_with_distinct_names_only() {
        assert!(parse(r#"{"a":1,"b":{"a":1,"a":2}}"#).is_ok());
        assert_eq!(
            parse(r#"{"a":1,"a":1}"#),
            Err("payload has a claim name twice")
        );
        for not_object in ["[]", "null", "1", "\"a\"", "{"] {
            assert_eq!(
                parse(not_object),
                Err("payload is not a JSON object"),
                "{not_object}"
            );
        }
        assert!(object("e30=", Part::Header).is_err(), "padded");
    }
}
