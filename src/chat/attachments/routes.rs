use axum::{
    extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Attachment, Variant,
    sniff::{self, HEAD, Kind, TextCheck},
    storage::{self, Staged, Stager},
    store::{self, AttachmentRow},
    thumbs,
};
use crate::{
    app::state::AppState,
    chat::{ensure_enabled, ensure_enabled_for, routes::visible},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::{ApiPath, ApiQuery},
    },
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The upload counts its own bytes against `CHAT_ATTACHMENT_MAX_MB` as they stream
        // to disk, instead of the request body limit meant for JSON.
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
        .merge(
            OpenApiRouter::new()
                .routes(routes!(download))
                .routes(routes!(download_thumbnail)),
        )
}

/// Room for the multipart framing around the file (boundaries, part headers).
const FRAMING: u64 = 64 * 1024;

/// The form of an upload: one part named `file` with a file name.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The file store out of reach (a disk error, the bucket refusing or down): 503, logged.
fn store_failed(err: anyhow::Error) -> AppError {
    tracing::error!(error = format!("{err:#}"), "the chat's file store failed");
    AppError::Upstream {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "file_store_unavailable",
        message: "Files cannot be stored or read right now; try again shortly.".into(),
    }
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge;
    }
    AppError::BadRequest {
        code: "invalid_multipart",
        message: format!("Send one file as multipart/form-data: {}", err.body_text()),
    }
}

/// Uploads a file to a room, to send with a message (`attachment_ids`) by the same person
/// (who may post in the room: its members, and anyone in the account for a public
/// channel). One `multipart/form-data` part named `file`. The type is told from the bytes
/// (images PNG, JPEG, GIF and WebP; PDF; Word, Excel, PowerPoint and OpenDocument without
/// macros; plain text and CSV; audio Ogg, MP3, M4A, WAV, WebM; video MP4, MOV): anything else
/// (HTML, SVG, executables, archives) answers 415. Images get a thumbnail.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/attachments", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)),
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses((status = 201, body = Attachment),
        (status = 400, body = Problem, description = "invalid_multipart"),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "room_archived"),
        (status = 413, body = Problem, description = "payload_too_large: past CHAT_ATTACHMENT_MAX_MB"),
        (status = 415, body = Problem, description = "unsupported_media_type"),
        (status = 422, body = Problem, description = "validation_failed, image_unreadable"),
        (status = 503, body = Problem, description = "file_store_unavailable")))]
async fn upload(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    request: Request,
) -> AppResult<(StatusCode, ApiJson<Attachment>)> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let room = visible(&state, &scope, path.1).await?;
    if room.archived_at.is_some() {
        return Err(AppError::Conflict {
            code: "room_archived",
            message: "This room is archived.".into(),
        });
    }
    let files = &state.chat_files;
    let max = files.max_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max + FRAMING) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|rejection| AppError::BadRequest {
            code: "invalid_multipart",
            message: format!(
                "Send one file as multipart/form-data: {}",
                rejection.body_text()
            ),
        })?;
    let received = receive(&mut form, files.staging(), max).await?;
    let Received {
        staged,
        head,
        text,
        name,
    } = received;
    let sniffed = sniff::sniff(&head, text.passed(), &name, &staged.path)
        .map_err(|why| AppError::UnsupportedFile(why.into()))?;
    let filename = sniff::fitting_name(&sniff::display_name(&name), sniffed.content_type);

    let (mut width, mut height, mut thumbnail) = (None, None, None);
    if sniffed.kind == Kind::Image {
        let (at, content_type) = (staged.path.clone(), sniffed.content_type);
        let made = tokio::task::spawn_blocking(move || thumbs::make(&at, content_type))
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let Some(made) = made else {
            return Err(AppError::Unprocessable {
                code: "image_unreadable",
                message:
                    "This image could not be read (damaged, or larger than 16,384 pixels a side)."
                        .into(),
            });
        };
        width = Some(made.width as i32);
        height = Some(made.height as i32);
        let thumb = storage::stage_bytes(files.staging(), &made.bytes)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        thumbnail = Some((thumb, made.content_type));
    }

    let now = clock::now();
    let row = AttachmentRow {
        id: Uuid::now_v7(),
        account_id: scope.account_id,
        room_id: room.id,
        uploader_id: caller,
        message_id: None,
        position: 0,
        filename,
        content_type: sniffed.content_type.to_string(),
        size: staged.len as i64,
        kind: sniffed.kind.as_str().to_string(),
        width,
        height,
        storage_key: storage::new_key(),
        thumbnail_key: thumbnail.as_ref().map(|_| storage::new_key()),
        thumbnail_type: thumbnail.as_ref().map(|(_, t)| t.to_string()),
        created_at: now,
    };
    let store = files.store();
    store
        .put(&row.storage_key, &staged)
        .await
        .map_err(store_failed)?;
    if let (Some((thumb, _)), Some(key)) = (&thumbnail, &row.thumbnail_key)
        && let Err(err) = store.put(key, thumb).await
    {
        files.forget(vec![row.storage_key.clone()]).await;
        return Err(store_failed(err));
    }
    let saved = async {
        let mut tx = state.db.begin().await?;
        store::insert(&mut tx, &row).await?;
        tx.commit().await?;
        AppResult::Ok(())
    }
    .await;
    if let Err(err) = saved {
        let keys = std::iter::once(row.storage_key.clone()).chain(row.thumbnail_key.clone());
        files.forget(keys.collect()).await;
        return Err(err);
    }
    Ok((StatusCode::CREATED, ApiJson(files.view(&row, now))))
}

/// An upload received in full on local disk.
struct Received {
    staged: Staged,
    /// Its first bytes, to tell its type.
    head: Vec<u8>,
    text: TextCheck,
    /// The name the client gave.
    name: String,
}

/// Streams the form's one file to the staging directory, counting it against `max`.
async fn receive(form: &mut Multipart, staging: &std::path::Path, max: u64) -> AppResult<Received> {
    let mut received = None;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        if field.file_name().is_none() && field.name() != Some("file") {
            continue;
        }
        if received.is_some() {
            return Err(AppError::validation("file", "send one file per upload"));
        }
        let name = field.file_name().unwrap_or_default().to_string();
        let mut stager = Stager::create(staging)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let mut head = Vec::with_capacity(HEAD);
        let mut text = TextCheck::default();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if stager.written() + chunk.len() as u64 > max {
                // The stager's file goes with it.
                return Err(AppError::PayloadTooLarge);
            }
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            text.feed(&chunk);
            stager
                .write(&chunk)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        let staged = stager
            .finish()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        received = Some(Received {
            staged,
            head,
            text,
            name,
        });
    }
    let received =
        received.ok_or_else(|| AppError::validation("file", "send a file in a part named file"))?;
    if received.staged.len == 0 {
        return Err(AppError::validation("file", "the file is empty"));
    }
    Ok(received)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedLink {
    /// When the link expires (Unix seconds).
    pub expires: i64,
    /// The hub's signature of the attachment, the variant and `expires`.
    pub signature: String,
}

/// An attachment's file, through the signed link a message's `url` holds (no credential:
/// it works in a link or an `<img src>`). Always a download (`Content-Disposition:
/// attachment`), with `nosniff` and a sandboxing CSP, cached privately until the link
/// expires. 403 `invalid_signature` or `link_expired`; 404 once its message was deleted.
#[utoipa::path(get, path = "/api/v1/chat/files/{attachmentId}", tag = "chat", security(()),
    params(("attachmentId" = Uuid, Path), SignedLink),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 403, body = Problem, description = "invalid_signature, link_expired"),
        (status = 404, body = Problem), (status = 503, body = Problem, description = "file_store_unavailable")))]
async fn download(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(link): ApiQuery<SignedLink>,
) -> AppResult<Response> {
    serve(&state, id, Variant::Original, link).await
}

/// An image's thumbnail (at most 320 px, re-encoded by the hub: PNG or JPEG), through the
/// signed link a message's `thumbnail_url` holds; shown inline.
#[utoipa::path(get, path = "/api/v1/chat/files/{attachmentId}/thumbnail", tag = "chat", security(()),
    params(("attachmentId" = Uuid, Path), SignedLink),
    responses((status = 200, description = "The thumbnail", content_type = "image/jpeg"),
        (status = 403, body = Problem, description = "invalid_signature, link_expired"),
        (status = 404, body = Problem)))]
async fn download_thumbnail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(link): ApiQuery<SignedLink>,
) -> AppResult<Response> {
    serve(&state, id, Variant::Thumbnail, link).await
}

/// Files are served under a policy that lets nothing in them run, even opened directly.
const FILE_CSP: &str = "default-src 'none'; sandbox";

async fn serve(
    state: &AppState,
    id: Uuid,
    variant: Variant,
    link: SignedLink,
) -> AppResult<Response> {
    let files = &state.chat_files;
    let now = clock::now();
    files.check(id, variant, link.expires, &link.signature, now)?;
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    // A link outlives nothing: not the plan's chat either.
    ensure_enabled_for(state, row.account_id).await?;
    let (key, content_type, disposition) = match variant {
        Variant::Original => (
            row.storage_key.clone(),
            served_type(&row.content_type),
            attachment_disposition(&row.filename),
        ),
        Variant::Thumbnail => (
            row.thumbnail_key.clone().ok_or(AppError::NotFound)?,
            row.thumbnail_type.clone().ok_or(AppError::NotFound)?,
            "inline".to_string(),
        ),
    };
    let blob = files
        .store()
        .get(&key)
        .await
        .map_err(store_failed)?
        .ok_or(AppError::NotFound)?;
    let fresh_for = (link.expires - now.unix_timestamp()).clamp(0, 86_400);
    let mut response = blob.body.into_response();
    let headers = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| AppError::Internal(e.into()));
    headers.insert(header::CONTENT_TYPE, value(&content_type)?);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.len));
    headers.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    headers.insert(
        header::CACHE_CONTROL,
        value(&format!("private, max-age={fresh_for}"))?,
    );
    Ok(response)
}

/// Text is served as UTF-8 (what the upload checked it was).
fn served_type(content_type: &str) -> String {
    if content_type.starts_with("text/") {
        format!("{content_type}; charset=utf-8")
    } else {
        content_type.to_string()
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): a plain ASCII stand-in for
/// old clients, and the name itself percent-encoded, so nothing in it can end the header.
fn attachment_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-()[]+,=@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_cannot_break_out_of_the_disposition() {
        assert_eq!(
            attachment_disposition("relatório \"final\".pdf"),
            "attachment; filename=\"relat_rio _final_.pdf\"; filename*=UTF-8''relat%C3%B3rio%20%22final%22.pdf"
        );
        let header = attachment_disposition("a;\r\nSet-Cookie: x=1.txt");
        assert!(!header.contains('\r') && !header.contains('\n'), "{header}");
    }
}
