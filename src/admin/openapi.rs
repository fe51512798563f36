//! The OpenAPI 3.1 document, generated from the route table and the types' derived schemas.

use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::route_table;
use crate::store::*;

/// `Doc::request` of a route whose body is raw bytes (a firmware upload), not JSON.
pub const BINARY: &str = "binary";
/// `Doc::request` or `Doc::response` of a route that takes or gives an xlsx workbook.
pub const XLSX: &str = "xlsx";
/// `Doc::request` or `Doc::response` of a route that takes or gives a WAV file.
pub const WAV: &str = "wav";
/// `Doc::response` of a route that gives a received fax (PDF or TIFF).
pub const FAX_DOCUMENT: &str = "fax-document";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every schema the API speaks, with the schemas they refer to.
fn schemas() -> Map<String, Value> {
    let mut list: Vec<(String, RefOr<Schema>)> = Vec::new();
    macro_rules! add {
        ($($t:ty),+ $(,)?) => {$(
            list.push((<$t as ToSchema>::name().into_owned(), <$t as utoipa::PartialSchema>::schema()));
            <$t as ToSchema>::schemas(&mut list);
        )+};
    }
    add!(
        NewUser,
        UserPatch,
        User,
        PhoneStatus,
        PhoneState,
        crate::phone_menu::Lockout,
        VoicemailSettings,
        FaxSettings,
        UserPhonebook,
        CidSettings,
        FollowMe,
        RingPolicy,
        NewDevice,
        DevicePatch,
        Device,
        Provisioning,
        SipStatus,
        Registration,
        TrunkStatus,
        NewWorkplace,
        WorkplacePatch,
        Workplace,
        NewForwarding,
        ForwardingPatch,
        Forwarding,
        NewAction,
        Action,
        ActionTemplate,
        ActionTemplateBody,
        SpeedDial,
        SpeedDialBody,
        Team,
        NewTeam,
        TeamPatch,
        NewMember,
        CallPage,
        CallRecord,
        CallClass,
        CallOutcome,
        NewPhonebookEntry,
        PhonebookPatch,
        PhonebookEntry,
        NewAdmin,
        Admin,
        Auth,
        VoicemailMode,
        Role,
        DeviceKind,
        Vendor,
        FaxFormat,
        Scope,
        Timing,
        ActionKind,
        ForwardCondition,
        ProvState,
        crate::store::provisioning::FirmwareModel,
        crate::provisioning::firmware::FirmwareFile,
        super::handlers::FirmwareChoice,
        super::handlers::LoginRequest,
        super::handlers::TokenRequest,
        super::handlers::TokenResponse,
        super::handlers::Me,
        crate::import::Report,
        crate::import::SheetCounts,
        crate::import::Change,
        crate::import::ChangeKind,
        crate::import::Problem,
        super::handlers::MailQueue,
        super::handlers::MailTest,
        super::handlers::MailQueued,
        crate::spool::Summary,
        crate::spool::Counts,
        crate::spool::State,
        crate::spool::Id,
        crate::voicemail::MessageInfo,
        crate::voicemail::MessageId,
        crate::voicemail::Reason,
        crate::voicemail::MailState,
        super::handlers::MessagePatch,
        crate::fax::FaxInfo,
        crate::fax::FaxId,
        crate::fax::FaxFileFormat,
        crate::fax::FaxMailState,
    );
    let mut map = Map::new();
    for (name, schema) in list {
        map.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    map.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string"}, "field": {"type": "string"}}}),
    );
    map
}

fn schema_ref(name: &str) -> Value {
    match name.strip_suffix("[]") {
        Some(item) => {
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}})
        }
        None => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

fn error_response(text: &str) -> Value {
    json!({"description": text, "content": {"application/json": {"schema": schema_ref("Error")}}})
}

/// The `{name}` segments of a path as OpenAPI path parameters (`id`s are integers).
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let kind = if name == "id" { "integer" } else { "string" };
            json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}})
        })
        .collect()
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in route_table().routes() {
        let mut responses = Map::new();
        let ok = match route.doc.response {
            Some(XLSX) => {
                json!({"description": "success", "content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}})
            }
            Some(WAV) => {
                json!({"description": "success", "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}})
            }
            Some(FAX_DOCUMENT) => {
                let binary = json!({"schema": {"type": "string", "format": "binary"}});
                json!({"description": "success: the device's format", "content": {
                    "application/pdf": binary.clone(), "image/tiff": binary}})
            }
            Some(name) => {
                json!({"description": "success", "content": {"application/json": {"schema": schema_ref(name)}}})
            }
            None => json!({"description": "success, no content"}),
        };
        responses.insert(route.doc.status.to_string(), ok);
        for (code, text) in [
            ("400", "malformed JSON"),
            ("401", "authentication required"),
            ("403", "the role may not use this route"),
            ("404", "not found"),
            ("409", "conflicts with existing data"),
            ("413", "body too large"),
            ("422", "invalid field"),
        ] {
            responses.insert(code.into(), error_response(text));
        }
        let mut op = json!({
            "summary": route.doc.summary,
            "tags": [route.path.split('/').nth(3).unwrap_or("api")],
            "x-zentrale-area": format!("{:?}", route.area),
            "responses": responses,
        });
        let mut params = path_params(route.path);
        // `name` is a boolean parameter, `name:type` one of another type.
        params.extend(route.doc.query.iter().map(|spec| {
            let (name, kind) = spec.split_once(':').unwrap_or((spec, "boolean"));
            json!({"name": name, "in": "query", "required": false, "schema": {"type": kind}})
        }));
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if route.doc.request == Some(XLSX) {
            op["requestBody"] = json!({"required": true, "content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}});
        } else if route.doc.request == Some(WAV) {
            op["requestBody"] = json!({"required": true, "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}});
        } else if route.doc.request == Some(BINARY) {
            op["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
        } else if let Some(name) = route.doc.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema_ref(name)}}});
        }
        let item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "zentrale admin API", "version": env!("CARGO_PKG_VERSION")},
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    })
}

pub async fn serve() -> impl IntoResponse {
    axum::Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in the document points at a schema that exists.
    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let text = doc.to_string();
        let mut seen = 0;
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').expect("closing quote")];
            assert!(schemas.contains_key(name), "missing schema {name}");
            seen += 1;
        }
        assert!(seen > 50, "only {seen} references checked");
    }

    /// The document lists exactly the routes of the table, method by method.
    #[test]
    fn paths_match_the_route_table() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        let table = route_table();
        let mut documented = 0;
        for (path, item) in paths {
            for method in item.as_object().expect("item").keys() {
                let m = axum::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .expect("method");
                assert!(
                    table.area(&m, path).is_some(),
                    "{method} {path} documented but not routed"
                );
                documented += 1;
            }
        }
        assert_eq!(documented, table.routes().len());
        assert!(documented > 40);
    }

    /// Regression (schemathesis): path parameters were used but not declared.
    #[test]
    fn every_path_parameter_is_declared() {
        let doc = document();
        let mut seen = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .filter_map(|p| p["name"].as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                let used: Vec<&str> = path
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                    .collect();
                assert_eq!(declared, used, "{method} {path}");
                seen += used.len();
            }
        }
        assert!(seen > 40);
    }

    /// Typed query parameters (`limit:integer`) are documented with their type, plain ones as
    /// booleans.
    #[test]
    fn query_parameters_carry_their_type() {
        let doc = document();
        let types = |path: &str, method: &str| -> Vec<(String, String)> {
            doc["paths"][path][method]["parameters"]
                .as_array()
                .expect(path)
                .iter()
                .filter(|p| p["in"] == "query")
                .map(|p| {
                    let name = p["name"].as_str().expect("name").to_owned();
                    (name, p["schema"]["type"].as_str().expect("type").to_owned())
                })
                .collect()
        };
        let calls = types("/api/v1/calls", "get");
        assert_eq!(
            calls,
            [
                ("limit".to_owned(), "integer".to_owned()),
                ("before".to_owned(), "integer".to_owned())
            ]
        );
        assert!(
            types("/api/v1/import", "post")
                .iter()
                .all(|(_, kind)| kind == "boolean")
        );
    }

    /// Regression (schemathesis): enum schemas listed Rust variant names, not the wire words.
    #[test]
    fn enum_schemas_list_the_wire_words() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let words = |name: &str| -> Vec<String> {
            schemas[name]["enum"]
                .as_array()
                .expect(name)
                .iter()
                .map(|v| v.as_str().expect("word").to_owned())
                .collect()
        };
        macro_rules! same_words {
            ($($t:ty),+) => {$(
                let wire: Vec<String> = <$t>::ALL.iter().map(|w| w.as_str().to_owned()).collect();
                assert_eq!(words(stringify!($t)), wire);
            )+};
        }
        same_words!(
            Role,
            DeviceKind,
            ForwardCondition,
            ActionKind,
            VoicemailMode,
            Vendor,
            CallClass,
            CallOutcome
        );
    }

    /// Secrets are write-only in every schema: no output type has them.
    #[test]
    fn output_schemas_carry_no_secrets() {
        let doc = document();
        for name in ["User", "Device", "Workplace", "Admin", "Me"] {
            let props = doc["components"]["schemas"][name]["properties"]
                .as_object()
                .expect(name);
            for secret in [
                "password",
                "pin",
                "sip_password",
                "password_hash",
                "pin_hash",
                "token",
            ] {
                assert!(!props.contains_key(secret), "{name} exposes {secret}");
            }
        }
    }
}
