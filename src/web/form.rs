//! `StrictForm`: like axum's `Form`, but a body whose text is not valid UTF-8 is refused (400)
//! instead of being decoded with replacement characters, and every value goes through the one
//! normalisation readers' comments get (`safety::text::normalise`: no NUL or other control
//! characters, no direction overrides or zero-width characters, NFC) before any handler sees it.
//! Passwords are the exception: they are compared, never shown or stored.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

pub struct StrictForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !is_utf8_form(&bytes) {
            return Err(StatusCode::BAD_REQUEST.into_response());
        }
        serde_urlencoded::from_str(&normalised(&bytes))
            .map(StrictForm)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())
    }
}

/// Fields kept exactly as typed.
const PASSWORD_FIELDS: [&str; 3] = ["password", "confirm", "current"];

/// The form again, with every value but a password normalised.
fn normalised(body: &[u8]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::with_capacity(body.len()));
    for (name, value) in form_urlencoded::parse(body) {
        if PASSWORD_FIELDS.contains(&name.as_ref()) {
            out.append_pair(&name, &value);
        } else {
            out.append_pair(&crate::safety::text::normalise(&name), &crate::safety::text::normalise(&value));
        }
    }
    out.finish()
}

/// Every name and value, once percent-decoded, is valid UTF-8.
pub fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.split(|b| *b == b'='))
        .all(|part| {
            let mut decoded = Vec::with_capacity(part.len());
            let mut i = 0;
            while i < part.len() {
                match part[i] {
                    b'%' if i + 2 < part.len() => {
                        let hex = std::str::from_utf8(&part[i + 1..i + 3])
                            .ok()
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        match hex {
                            Some(byte) => {
                                decoded.push(byte);
                                i += 3;
                            }
                            None => {
                                decoded.push(b'%');
                                i += 1;
                            }
                        }
                    }
                    b'+' => {
                        decoded.push(b' ');
                        i += 1;
                    }
                    other => {
                        decoded.push(other);
                        i += 1;
                    }
                }
            }
            std::str::from_utf8(&decoded).is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_forms_pass_and_invalid_utf8_does_not() {
        assert!(is_utf8_form(b"name=Sam&body=caf%C3%A9+au+lait"));
        assert!(is_utf8_form(b"a=100%25&b=%"));
        assert!(!is_utf8_form(b"name=Sam&body=%FF%FE"));
        assert!(!is_utf8_form(b"name=%C3"));
        assert!(!is_utf8_form(b"na%80me=x"));
    }

    #[test]
    fn values_are_normalised_but_passwords_kept_as_typed() {
        let form = normalised(b"title=A%00b%E2%80%AEc%E2%80%8B&password=p%00w&body=one%0D%0Atwo");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("title".into(), "Abc".into()),
                ("password".into(), "p\0w".into()),
                ("body".into(), "one\ntwo".into()),
            ]
        );
    }
}
