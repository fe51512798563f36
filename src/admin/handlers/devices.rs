//! `/api/v1/devices` [Endgeräte]; SIP secrets go in, never out.

use axum::extract::State;
use axum::http::Method;

use super::{Created, Done, Found, created, doc, done, found};
use crate::admin::body::{Json, Path};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::store::{Device, DevicePatch, NewDevice};

const DEVICE: &str = "/api/v1/devices/{id}";

pub(super) fn register(api: Api) -> Api {
    use Area::Devices;
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/devices",
        Devices,
        doc("List devices", None, Some("Device[]"), 200),
        list,
    )
    .route(
        M::POST,
        "/api/v1/devices",
        Devices,
        doc("Add a device", Some("NewDevice"), Some("Device"), 201),
        create,
    )
    .route(
        M::GET,
        DEVICE,
        Devices,
        doc("Show a device", None, Some("Device"), 200),
        show,
    )
    .route(
        M::PATCH,
        DEVICE,
        Devices,
        doc(
            "Change or (re)assign a device",
            Some("DevicePatch"),
            Some("Device"),
            200,
        ),
        update,
    )
    .route(
        M::DELETE,
        DEVICE,
        Devices,
        doc("Delete a device", None, None, 204),
        delete,
    )
    .route(
        M::POST,
        "/api/v1/devices/{id}/enroll",
        Devices,
        doc(
            "Re-open the device's enrollment window",
            None,
            Some("Device"),
            200,
        ),
        enroll,
    )
}

async fn list(State(s): State<ApiState>) -> Found<Vec<Device>> {
    s.fetches.flush().await;
    found(s.with_statuses(s.store.devices().await?))
}

async fn create(State(s): State<ApiState>, Json(new): Json<NewDevice>) -> Created<Device> {
    created(s.store.create_device(new).await?)
}

async fn show(State(s): State<ApiState>, Path(id): Path<i64>) -> Found<Device> {
    s.fetches.flush().await;
    found(s.with_status(s.store.device(id).await?))
}

async fn update(
    State(s): State<ApiState>,
    Path(id): Path<i64>,
    Json(patch): Json<DevicePatch>,
) -> Found<Device> {
    found(s.with_status(s.store.update_device(id, patch).await?))
}

async fn delete(State(s): State<ApiState>, Path(id): Path<i64>) -> Done {
    s.store.delete_device(id).await?;
    done()
}

async fn enroll(State(s): State<ApiState>, Path(id): Path<i64>) -> Found<Device> {
    found(s.with_status(s.store.enroll_device(id).await?))
}
