//! The receipt every write answer carries (`receipt`, when the write logged
//! an entry: its first entry's signed receipt, the form of
//! `GET /v1/record/entries/{seq}/receipt` (`wire::Receipt`) without a
//! notice's content, which the writer sent), added to every POST's success
//! answers by `Conventions`. An idempotent retry is answered the same receipt.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr};

/// Adds the optional `receipt` to the JSON body of each success answer of
/// a write.
pub(super) fn add_receipt(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !status.starts_with('2') {
            continue;
        }
        if let Some(RefOr::T(content)) = response.content.get_mut("application/json") {
            let receipt = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("receipt", Ref::from_schema_name("Receipt"));
            let body = match content.schema.take() {
                Some(original) => AllOfBuilder::new().item(original).item(receipt).into(),
                None => receipt.into(),
            };
            content.schema = Some(body);
            response.description.push_str(
                " With `receipt` (`Receipt`) when the write logged an entry: its signed receipt.",
            );
        }
    }
}
