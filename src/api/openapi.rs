//! The OpenAPI 3.1 document, served at `/api/v1/openapi.json`: generated from the handlers'
//! `#[utoipa::path]` and the JSON types, then completed here with what every operation can answer
//! (problem documents for 4xx and 5xx, the bearer scheme's 401 and 403).

use utoipa::{
    OpenApi,
    openapi::{
        self, ContentBuilder, HttpMethod, RefOr, ResponseBuilder,
        path::Operation,
        security::{Http, HttpAuthScheme, SecurityScheme},
    },
};

use super::problem::{CONTENT_TYPE, ProblemBody};

pub const PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "carethread",
        description = "Moderated comments for health-information websites: published threads, posting, comment counts, and the moderation queue for staff.\n\nErrors are problem documents (RFC 9457, `application/problem+json`). Staff endpoints take an API token made by an admin under Admin → API tokens, sent as `Authorization: Bearer ct_…`.",
        license(name = "MIT"),
    ),
    components(schemas(ProblemBody)),
    tags(
        (name = "public", description = "What readers and embedding pages use; no token."),
        (name = "staff", description = "The moderation queue; an API token, with the owner's role rules."),
    ),
)]
struct ApiDoc;

/// The document's start: information, tags and the problem schema.
pub fn base() -> openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.bearer_format = Some("ct_ followed by 43 characters".into());
    bearer.description = Some("An API token, made by an admin; scope `read` or `moderate`.".into());
    components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    doc
}

/// The whole document as JSON, with every operation's problem answers filled in.
pub fn document(mut doc: openapi::OpenApi) -> String {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Options, &mut item.options),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                complete(operation, method);
            }
        }
    }
    serde_json::to_string(&doc).unwrap_or_default()
}

/// Adds the answers any such operation can give, and a problem body to every 4xx and 5xx.
fn complete(operation: &mut Operation, method: HttpMethod) {
    let staff = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let bad_request = if has_body {
        "The body is not JSON or not valid UTF-8, or the address or query string does not fit."
    } else {
        "The address or query string does not fit (a mistyped value, a control character)."
    };
    let mut extra = vec![
        ("400", bad_request),
        ("500", "Something went wrong on our side."),
        (
            "503",
            "The comments store cannot be reached just now; see Retry-After.",
        ),
    ];
    if has_body {
        extra.extend([
            ("413", "The body is larger than the service accepts."),
            ("415", "The body is not sent as application/json."),
            ("422", "The JSON does not fit: a wrong type, an unknown field, a number out of range (`errors` names it)."),
        ]);
    }
    if staff {
        extra.extend([
            ("401", "No token, or one that is mistyped, revoked or whose account is disabled (see WWW-Authenticate)."),
            ("403", "The token's scope, or its account's role, does not allow this."),
        ]);
    }
    if method == HttpMethod::Options {
        extra.retain(|(status, _)| *status != "400");
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in extra {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| ResponseBuilder::new().description(description).into());
    }
    for (status, response) in responses.iter_mut() {
        let problem = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (problem, response) {
            response.content.clear();
            let content = ContentBuilder::new()
                .schema(Some(RefOr::Ref(openapi::Ref::from_schema_name("Problem"))))
                .build();
            response.content.insert(CONTENT_TYPE.to_owned(), content);
        }
    }
}
