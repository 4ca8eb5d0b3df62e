//! `/v3/customers`.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
};
use serde::Deserialize;

use super::{
    model::{SimCustomer, new_id},
    objects,
    routes::{self, ApiError, ApiResult, Params, Sim},
    today,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCustomer {
    name: Option<String>,
    cpf_cnpj: Option<String>,
    email: Option<String>,
    mobile_phone: Option<String>,
    external_reference: Option<String>,
}

/// `POST /v3/customers`. Asaas allows several customers with the same CPF/CNPJ, so this
/// never deduplicates: a client that retries blindly creates duplicates.
pub(super) async fn create(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let input: NewCustomer = routes::parse(&body)?;
    let name = routes::required(
        input.name,
        "invalid_name",
        "O nome do cliente deve ser informado.",
    )?;
    let document = routes::required(
        input.cpf_cnpj,
        "invalid_cpfCnpj",
        "O CPF/CNPJ do cliente deve ser informado.",
    )?;
    let cpf_cnpj = normalise_document(&document)
        .ok_or_else(|| ApiError::invalid("invalid_cpfCnpj", "O CPF/CNPJ informado é inválido."))?;
    let customer = SimCustomer {
        id: new_id("cus_"),
        date_created: today(),
        name,
        email: input.email.filter(|e| !e.trim().is_empty()),
        cpf_cnpj,
        mobile_phone: input.mobile_phone.filter(|p| !p.trim().is_empty()),
        external_reference: input.external_reference,
        deleted: false,
    };
    let answer = objects::customer(&customer);
    sim.db().customers.push(customer);
    Ok(Json(answer))
}

/// `GET /v3/customers?cpfCnpj=&externalReference=&name=&email=&offset=&limit=`.
pub(super) async fn list(State(sim): State<Sim>, Query(params): Query<Params>) -> ApiResult {
    // Asaas matches the document whatever punctuation the caller used.
    let document = params.get("cpfCnpj").map(|d| strip(d));
    let items = {
        let db = sim.db();
        db.customers
            .iter()
            .filter(|c| !c.deleted)
            .filter(|c| document.as_ref().is_none_or(|d| *d == c.cpf_cnpj))
            .filter(|c| {
                routes::matches(
                    &params,
                    "externalReference",
                    c.external_reference.as_deref(),
                )
            })
            .filter(|c| routes::matches(&params, "name", Some(&c.name)))
            .filter(|c| routes::matches(&params, "email", c.email.as_deref()))
            .map(objects::customer)
            .collect()
    };
    routes::list(items, &params)
}

/// `GET /v3/customers/{id}`.
pub(super) async fn show(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let db = sim.db();
    let customer = db.customer(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(objects::customer(customer)))
}

fn strip(document: &str) -> String {
    document
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The document without punctuation if it is a valid CPF (11 digits) or CNPJ (14
/// characters, the first 12 possibly letters: the alphanumeric CNPJ from July 2026), with
/// correct check digits, as Asaas validates them.
pub(super) fn normalise_document(document: &str) -> Option<String> {
    let text = strip(document);
    let values: Vec<u32> = text
        .bytes()
        .map(|b| u32::from(b) - u32::from(b'0'))
        .collect();
    let all_digits = text.bytes().all(|b| b.is_ascii_digit());
    let valid = match values.len() {
        11 => all_digits && values.iter().any(|v| *v != values[0]) && cpf_ok(&values),
        14 => text[12..].bytes().all(|b| b.is_ascii_digit()) && cnpj_ok(&values),
        _ => false,
    };
    valid.then_some(text)
}

fn check_digit(values: &[u32], weights: impl Iterator<Item = u32>) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    match sum % 11 {
        0 | 1 => 0,
        rest => 11 - rest,
    }
}

fn cpf_ok(d: &[u32]) -> bool {
    check_digit(&d[..9], (2..=10).rev()) == d[9] && check_digit(&d[..10], (2..=11).rev()) == d[10]
}

fn cnpj_ok(d: &[u32]) -> bool {
    // Weights 2..9 cycling from the right; letters count as their ASCII code minus 48.
    let weights = |n: usize| (0..n).rev().map(|i| (i % 8) as u32 + 2);
    !d.iter().all(|v| *v == d[0])
        && check_digit(&d[..12], weights(12)) == d[12]
        && check_digit(&d[..13], weights(13)) == d[13]
}

#[cfg(test)]
mod tests {
    use super::normalise_document;

    #[test]
    fn documents_are_checked_like_asaas() {
        assert_eq!(
            normalise_document("529.982.247-25").as_deref(),
            Some("52998224725")
        );
        assert_eq!(normalise_document("52998224724"), None);
        assert_eq!(normalise_document("11111111111"), None);
        assert_eq!(
            normalise_document("11.222.333/0001-81").as_deref(),
            Some("11222333000181")
        );
        assert_eq!(normalise_document("11222333000182"), None);
        // The alphanumeric CNPJ example published by the Receita Federal.
        assert_eq!(
            normalise_document("12.ABC.345/01DE-35").as_deref(),
            Some("12ABC34501DE35")
        );
        assert_eq!(normalise_document("123"), None);
    }
}
