//! `StrictForm`: like axum's `Form`, but a body whose text is not valid UTF-8 is refused (400)
//! instead of being decoded with replacement characters.

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
        serde_urlencoded::from_bytes(&bytes)
            .map(StrictForm)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())
    }
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
}
