//! `GET /api/v1/trunks`: each trunk [Amt] as the SIP service sees it now (registered or not,
//! until when, the provider's last answer, where its host resolved to). The seed keeps
//! gateways from the telephony admin, so this is for admins and system admins.

use axum::extract::State;
use axum::http::Method;

use super::{Found, doc, found};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::store::TrunkStatus;

pub(super) fn register(api: Api) -> Api {
    api.route(
        Method::GET,
        "/api/v1/trunks",
        Area::Gateways,
        doc(
            "Trunks and their registration",
            None,
            Some("TrunkStatus[]"),
            200,
        ),
        list,
    )
}

async fn list(State(s): State<ApiState>) -> Found<Vec<TrunkStatus>> {
    found(s.presence.trunks())
}
