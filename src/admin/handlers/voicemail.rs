//! `/api/v1/users/{username}/voicemail/…`: a user's messages (list, metadata, audio, heard,
//! delete) and greetings (upload any WAV, fetch, delete back to the shipped prompt).
//!
//! Who may do what is in [`Area::Voicemail`] and [`Area::VoicemailAudio`]; the owner, logged in
//! with their own password, always reaches their own box. A greeting upload is the raw WAV
//! (`audio/wav`), capped at [`MAX_GREETING_BYTES`], not by the JSON body limit.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Done, Found, doc, done, found};
use crate::admin::body::{Json, Path};
use crate::admin::error::AdminError;
use crate::admin::openapi::WAV;
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::voicemail::{GreetingKind, Mailboxes, MessageId, MessageInfo, greeting};

const MESSAGES: &str = "/api/v1/users/{username}/voicemail/messages";
const MESSAGE: &str = "/api/v1/users/{username}/voicemail/messages/{id}";
const AUDIO: &str = "/api/v1/users/{username}/voicemail/messages/{id}/audio";
const GREETING: &str = "/api/v1/users/{username}/voicemail/greetings/{kind}";

/// The largest greeting upload: 60 s of 48 kHz stereo 32-bit float is 23 MB; 32 MiB leaves
/// room for the header and odd rates without letting a client park gigabytes in memory.
pub const MAX_GREETING_BYTES: usize = 32 << 20;

/// `PATCH …/messages/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagePatch {
    pub heard: bool,
}

pub(super) fn register(api: Api) -> Api {
    use Area::{Voicemail, VoicemailAudio};
    use Method as M;
    let list = doc(
        "The user's voicemail messages, newest first",
        None,
        Some("MessageInfo[]"),
        200,
    );
    let audio = doc(
        "A message's recording (audio/wav, 8 kHz 16-bit mono)",
        None,
        Some(WAV),
        200,
    );
    let put = doc(
        "Upload a greeting: any PCM WAV (8/16/24/32-bit integer or 32-bit float, any rate 4-192 kHz, up to 8 channels, at most 60 s), stored as 8 kHz mono",
        Some(WAV),
        None,
        204,
    );
    api.route(M::GET, MESSAGES, Voicemail, list, messages)
        .route(
            M::GET,
            MESSAGE,
            Voicemail,
            doc("A message's metadata", None, Some("MessageInfo"), 200),
            message,
        )
        .route(M::GET, AUDIO, VoicemailAudio, audio, message_audio)
        .route(
            M::PATCH,
            MESSAGE,
            Voicemail,
            doc(
                "Mark a message heard or new",
                Some("MessagePatch"),
                Some("MessageInfo"),
                200,
            ),
            patch_message,
        )
        .route(
            M::DELETE,
            MESSAGE,
            Voicemail,
            doc("Delete a message", None, None, 204),
            delete_message,
        )
        .route(M::PUT, GREETING, Voicemail, put, put_greeting)
        .route(
            M::GET,
            GREETING,
            Voicemail,
            doc(
                "The user's own greeting (audio/wav); 404 while callers hear the shipped prompt",
                None,
                Some(WAV),
                200,
            ),
            get_greeting,
        )
        .route(
            M::DELETE,
            GREETING,
            Voicemail,
            doc(
                "Remove the user's greeting: callers hear the shipped prompt again",
                None,
                None,
                204,
            ),
            delete_greeting,
        )
}

async fn messages(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path(username): Path<String>,
) -> Found<Vec<MessageInfo>> {
    let user = s.store.user_id(&username).await?;
    found(boxes.messages(user).await?)
}

async fn message(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, id)): Path<(String, i64)>,
) -> Found<MessageInfo> {
    let user = s.store.user_id(&username).await?;
    found(boxes.message(user, MessageId(id)).await?)
}

async fn message_audio(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<Response, AdminError> {
    let user = s.store.user_id(&username).await?;
    let path = boxes.audio_path(user, MessageId(id)).await?;
    wav_file(&path).await
}

async fn patch_message(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, id)): Path<(String, i64)>,
    Json(patch): Json<MessagePatch>,
) -> Found<MessageInfo> {
    let user = s.store.user_id(&username).await?;
    boxes.mark_heard(user, MessageId(id), patch.heard).await?;
    found(boxes.message(user, MessageId(id)).await?)
}

async fn delete_message(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, id)): Path<(String, i64)>,
) -> Done {
    let user = s.store.user_id(&username).await?;
    boxes.delete(user, MessageId(id)).await?;
    done()
}

async fn put_greeting(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, kind)): Path<(String, GreetingKind)>,
    body: Body,
) -> Done {
    let user = s.store.user_id(&username).await?;
    let bytes = axum::body::to_bytes(body, MAX_GREETING_BYTES)
        .await
        .map_err(|_| AdminError::TooLarge(MAX_GREETING_BYTES))?;
    let samples = tokio::task::spawn_blocking(move || greeting::to_8k_mono(&bytes))
        .await
        .map_err(|e| crate::voicemail::MailboxError::BadAudio(e.to_string()))??;
    boxes.put_greeting(user, kind, samples).await?;
    done()
}

async fn get_greeting(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, kind)): Path<(String, GreetingKind)>,
) -> Result<Response, AdminError> {
    let user = s.store.user_id(&username).await?;
    let path = boxes
        .greeting_path(user, kind)
        .ok_or(crate::voicemail::MailboxError::NotFound("greeting"))?;
    wav_file(&path).await
}

async fn delete_greeting(
    State(s): State<ApiState>,
    Extension(boxes): Extension<Mailboxes>,
    Path((username, kind)): Path<(String, GreetingKind)>,
) -> Done {
    let user = s.store.user_id(&username).await?;
    boxes.delete_greeting(user, kind).await?;
    done()
}

/// A WAV file as the response body.
async fn wav_file(path: &std::path::Path) -> Result<Response, AdminError> {
    use crate::voicemail::MailboxError;
    let bytes = tokio::fs::read(path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => MailboxError::NotFound("recording"),
        _ => MailboxError::Io {
            path: path.to_owned(),
            source: e,
        },
    })?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}
