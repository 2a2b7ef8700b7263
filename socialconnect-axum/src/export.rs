//! The hub's export as a streamed response body.
//!
//! [`SocialConnect::export`] writes JSON to a blocking `Write`. It runs on tokio's blocking
//! pool, writing 64 KiB chunks into a channel of four, which the response body drains: the
//! document is never held whole in memory, and a slow client slows the export instead of
//! buffering it. A failure part-way ends the body with an error, so the client sees a broken
//! transfer rather than a JSON document that looks complete.

use std::io;

use axum::body::{Body, Bytes};
use futures_util::stream;
use socialconnect_core::SocialConnect;
use socialconnect_core::id::SubjectId;

const CHUNK: usize = 64 * 1024;
const IN_FLIGHT: usize = 4;

/// A `Write` that sends full chunks down a bounded channel.
struct ChunkWriter {
    buffer: Vec<u8>,
    tx: std::sync::mpsc::SyncSender<io::Result<Bytes>>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.tx
            .send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The export of `subject` by `actor`, as a body that streams while it is written.
pub(crate) fn body(hub: SocialConnect, subject: SubjectId, actor: String) -> Body {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Bytes>>(IN_FLIGHT);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK),
            tx: tx.clone(),
        };
        let result = runtime.block_on(hub.export(&subject, &actor, &mut writer));
        let result = result.and_then(|()| {
            io::Write::flush(&mut writer)
                .map_err(|e| socialconnect_core::Error::storage("sending the export", e))
        });
        if let Err(e) = result {
            tracing::error!(error = %e, "export failed part-way");
            let _ = tx.send(Err(io::Error::other("the export failed")));
        }
    });
    let chunks = stream::unfold(Some(rx), |rx| async move {
        let rx = rx?;
        let (rx, next) = tokio::task::spawn_blocking(move || {
            let next = rx.recv();
            (rx, next)
        })
        .await
        .ok()?;
        match next {
            Ok(Ok(chunk)) => Some((Ok(chunk), Some(rx))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(_) => None,
        }
    });
    Body::from_stream(chunks)
}
