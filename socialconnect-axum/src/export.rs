//! The hub's export as a streamed response body.
//!
//! [`SocialConnect::export`] writes JSON to a blocking `Write`. It runs on tokio's blocking
//! pool, writing 64 KiB chunks into a channel of four; one plain thread per export hands them
//! to the response body. The document is never held whole in memory, and a slow client slows
//! the export instead of buffering it. At most [`MAX_EXPORTS`] run at once (a busy answer
//! otherwise), so exports can never take over the blocking pool the stores also use. A failure
//! part-way — or an export that ends without saying it finished — ends the body with an
//! error, so the client sees a broken transfer rather than a document that looks complete.

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
    tx: std::sync::mpsc::SyncSender<Piece>,
    client_gone: bool,
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
        self.tx.send(Piece::Chunk(chunk)).map_err(|_| {
            self.client_gone = true;
            io::Error::new(io::ErrorKind::BrokenPipe, "the client went away")
        })
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

/// How many exports may stream at once.
pub(crate) const MAX_EXPORTS: usize = 8;

/// What the export thread sends: chunks, then the end (a dropped sender without it is an
/// error).
enum Piece {
    Chunk(Bytes),
    End,
    Failed,
}

/// The export of `subject` by `actor`, as a body that streams while it is written; `permit`
/// (one of [`MAX_EXPORTS`]) is held until the export has finished.
pub(crate) fn body(
    hub: SocialConnect,
    subject: SubjectId,
    actor: String,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Body {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(IN_FLIGHT);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut writer = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK),
            tx: tx.clone(),
            client_gone: false,
        };
        let result = runtime.block_on(hub.export(&subject, &actor, &mut writer));
        let result = result.and_then(|()| {
            io::Write::flush(&mut writer)
                .map_err(|e| socialconnect_core::Error::storage("sending the export", e))
        });
        match result {
            Ok(()) => {
                let _ = tx.send(Piece::End);
            }
            Err(e) if writer.client_gone => {
                tracing::debug!(error = %e, "export stopped: the client went away");
            }
            Err(e) => {
                tracing::error!(error = %e, "export failed part-way");
                let _ = tx.send(Piece::Failed);
            }
        }
    });
    // A plain thread (not the blocking pool) moves the chunks to the async side.
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(1);
    std::thread::spawn(move || {
        loop {
            let item = match rx.recv() {
                Ok(Piece::Chunk(chunk)) => Ok(chunk),
                Ok(Piece::End) => return,
                Ok(Piece::Failed) => Err(io::Error::other("the export failed")),
                Err(_) => Err(io::Error::other("the export ended unfinished")),
            };
            let last = item.is_err();
            if out_tx.blocking_send(item).is_err() || last {
                return;
            }
        }
    });
    let chunks = stream::poll_fn(move |cx| out_rx.poll_recv(cx));
    Body::from_stream(chunks)
}
