//! `/api/v1/firmware`: firmware files for the phones, and which file each vendor/model gets.
//! Uploads are raw bytes (`PUT /api/v1/firmware/{file}`), capped by
//! `provisioning.max_firmware_bytes`, not by the JSON body limit.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use serde::Deserialize;

use super::{Created, Done, Found, created, doc, done, found};
use crate::admin::body::{Json, Path};
use crate::admin::error::AdminError;
use crate::admin::openapi::BINARY;
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::provisioning::firmware::FirmwareFile;
use crate::store::Vendor;
use crate::store::provisioning::FirmwareModel;

const FILE: &str = "/api/v1/firmware/{file}";
const MODEL: &str = "/api/v1/firmware-models/{vendor}/{model}";

/// Which uploaded file phones of a vendor/model install.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareChoice {
    pub file: String,
}

pub(super) fn register(api: Api) -> Api {
    use Area::FirmwareRollout as F;
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/firmware",
        F,
        doc("List firmware files", None, Some("FirmwareFile[]"), 200),
        list,
    )
    .route(
        M::PUT,
        FILE,
        F,
        doc(
            "Upload a firmware file (raw bytes)",
            Some(BINARY),
            Some("FirmwareFile"),
            201,
        ),
        upload,
    )
    .route(
        M::DELETE,
        FILE,
        F,
        doc("Delete a firmware file", None, None, 204),
        delete,
    )
    .route(
        M::GET,
        "/api/v1/firmware-models",
        F,
        doc(
            "Firmware chosen per vendor and model",
            None,
            Some("FirmwareModel[]"),
            200,
        ),
        models,
    )
    .route(
        M::PUT,
        MODEL,
        F,
        doc(
            "Choose the firmware of a vendor's model",
            Some("FirmwareChoice"),
            None,
            204,
        ),
        choose,
    )
    .route(
        M::DELETE,
        MODEL,
        F,
        doc("Stop rolling out firmware to a model", None, None, 204),
        unchoose,
    )
}

async fn list(State(s): State<ApiState>) -> Found<Vec<FirmwareFile>> {
    found(s.firmware.list().await?)
}

async fn upload(
    State(s): State<ApiState>,
    Path(file): Path<String>,
    body: Body,
) -> Created<FirmwareFile> {
    created(s.firmware.save(&file, body.into_data_stream()).await?)
}

async fn delete(State(s): State<ApiState>, Path(file): Path<String>) -> Done {
    if s.firmware.delete(&file).await? {
        done()
    } else {
        Err(crate::store::StoreError::not_found("firmware", &file).into())
    }
}

async fn models(State(s): State<ApiState>) -> Found<Vec<FirmwareModel>> {
    found(s.store.firmware_models().await?)
}

async fn choose(
    State(s): State<ApiState>,
    Path((vendor, model)): Path<(Vendor, String)>,
    Json(choice): Json<FirmwareChoice>,
) -> Done {
    let path = s.firmware.path(&choice.file)?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(AdminError::Shape {
            field: Some("file".into()),
            message: format!("no firmware file {} was uploaded", choice.file),
        });
    }
    s.store
        .set_firmware_model(vendor, &model, Some(&choice.file))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unchoose(
    State(s): State<ApiState>,
    Path((vendor, model)): Path<(Vendor, String)>,
) -> Done {
    s.store.set_firmware_model(vendor, &model, None).await?;
    done()
}
