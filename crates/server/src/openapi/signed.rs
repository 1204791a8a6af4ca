//! The documentation of signed writes: on every route whose request a party
//! signs, the `Parley-Signature` and `Parley-Statement` headers, 422 for a
//! statement that is not the one of what is recorded (or too old), and 409
//! `replayed` for a signature accepted once already.

use super::problem;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::Required;

/// The routes whose requests a party may sign (`parley-statement/v2`).
pub(crate) const SIGNED_ROUTES: [&str; 7] = [
    "/v1/lines/{line}/notices",
    "/v1/activities/{activity}/amendments",
    "/v1/activities/{activity}/cancellation",
    "/v1/activities/{activity}/acknowledgments",
    "/v1/talks/{talk}/confirmation",
    "/v1/parties/{party}/keys",
    "/v1/parties/{party}/keys/revocations",
];

fn header(name: &str, description: &str) -> Parameter {
    Parameter::builder()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// Adds the signature headers and answers to the POST of a signed route.
pub(super) fn document(path: &str, operation: &mut Operation) {
    if !SIGNED_ROUTES.contains(&path) {
        return;
    }
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.push(header(
        "Parley-Signature",
        "`<key name> <base64>`: the party's Ed25519 signature (a C2SP signed-note line) of the statement in Parley-Statement, with a key the party holds. A party that holds keys must sign changes to them.",
    ).into());
    parameters.push(header(
        "Parley-Statement",
        "Base64 of the signed `parley-statement/v2` text: `origin` (the record's checkpoint origin), `line|talk|party <id>`, `operator <id>`, `time <µs since the epoch>` (within the server's skew, 5 min by default), `action <what and its subject>`, `content <SHA-256 of the RFC 8785 canonical declared content>`. The server rebuilds it from what it records and answers 422 naming the field that differs.",
    ).into());
    operation.responses.responses.insert(
        "409".into(),
        problem("`replayed`: this signature was accepted once already (by any operator of the party); or `conflict`: the request contradicts the current state.").into(),
    );
}
