//! `StrictForm`: like axum's `Form`, but a body whose text is not valid UTF-8 is refused (400)
//! instead of being decoded with replacement characters, and every value goes through the one
//! normalisation readers' comments get (`text::normalise`: no NUL or other control
//! characters, no direction overrides or zero-width characters, NFC) before any handler sees it.
//! Passwords are the exception: they are compared, never shown or stored.

use std::marker::PhantomData;

use axum::{
    body::Bytes,
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_csrf::{CsrfConfig, CsrfToken};
use serde::de::DeserializeOwned;

use super::page::ErrorPage;

pub struct StrictForm<T>(pub T);

/// The hidden field that carries the form token on every form.
pub const TOKEN_FIELD: &str = "authenticity_token";

/// What a refused form says when its token is missing or stale.
pub trait Refusal {
    const MESSAGE: &'static str;
}

/// The usual refusal: nothing was changed.
pub struct StaleForm;

impl Refusal for StaleForm {
    const MESSAGE: &'static str = "For your safety we could not accept that form, and nothing was changed. Please go back, reload the page and try again.";
}

/// A form whose token has been checked: a request without a valid one is refused (403) before
/// the handler runs, so a handler taking `CsrfForm` cannot forget the check.
pub struct CsrfForm<T, R: Refusal = StaleForm>(pub T, pub PhantomData<R>);

impl<S, T, R> FromRequest<S> for CsrfForm<T, R>
where
    S: Send + Sync,
    CsrfConfig: FromRef<S>,
    T: DeserializeOwned,
    R: Refusal,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Checked { form, token_ok, .. } = Checked::<T>::from_request(request, state).await?;
        if !token_ok {
            return Err(
                ErrorPage::new("You cannot do that", R::MESSAGE).into_response_with(StatusCode::FORBIDDEN)
            );
        }
        Ok(Self(form, PhantomData))
    }
}

/// A form and the verdict on its token, for the forms that show themselves again, with what was
/// typed, when the token is missing or stale (a guest's comment, a midwife's reply, sign-in and
/// password forms): nobody loses their words to an expired page.
pub struct Checked<T> {
    pub form: T,
    pub token_ok: bool,
    /// For the page shown next: its forms need a token, and the response the cookie.
    pub csrf: CsrfToken,
}

impl<S, T> FromRequest<S> for Checked<T>
where
    S: Send + Sync,
    CsrfConfig: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let csrf = CsrfToken::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = form_bytes(Request::from_parts(parts, body), state).await?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == TOKEN_FIELD)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        let token_ok = csrf.verify(&token).is_ok();
        let form = serde_urlencoded::from_str(&normalised(&bytes))
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        Ok(Self { form, token_ok, csrf })
    }
}

/// A form token could not be made (a broken key: a bug, not the visitor's doing).
#[derive(Debug, thiserror::Error)]
#[error("could not make a form token: {0}")]
pub struct TokenError(String);

/// A new form token for a page's forms.
pub fn new_token(csrf: &CsrfToken) -> Result<String, TokenError> {
    csrf.authenticity_token()
        .map_err(|error| TokenError(format!("{error:?}")))
}

/// The body of a form post, refused unless it is a form whose text is valid UTF-8.
async fn form_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Response> {
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
    Ok(bytes)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = form_bytes(request, state).await?;
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
            out.append_pair(&crate::text::normalise(&name), &crate::text::normalise(&value));
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
