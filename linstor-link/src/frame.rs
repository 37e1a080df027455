//! Frames: a `u32` big-endian payload length, then that many bytes of JSON (the payloads use
//! serde's `tag` and `flatten`, which need a self-describing format). The pure codec
//! (`encode_frame`, `decode_frame`) and the buffered, cancel-safe stream halves the link is
//! built on (`FrameReader`, `FrameWriter`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::LinkError;

/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;

/// How much the reader asks the stream for when it does not yet know a frame's length.
const READ_CHUNK: usize = 8 * 1024;

/// Above this, an idle reader's buffer is shrunk back (after one large frame).
const KEEP_CAPACITY: usize = 1024 * 1024;

/// `msg` as one frame (length prefix and JSON). Fails when the JSON is over `max_frame` bytes.
pub fn encode_frame<T: Serialize + ?Sized>(msg: &T, max_frame: u32) -> Result<Vec<u8>, LinkError> {
    let mut buf = vec![0u8; HEADER_LEN];
    serde_json::to_writer(&mut buf, msg).map_err(LinkError::Encode)?;
    let len = buf.len() - HEADER_LEN;
    let too_large = || LinkError::MessageTooLarge {
        len: len as u64,
        max: max_frame,
    };
    let len = u32::try_from(len).map_err(|_| too_large())?;
    if len > max_frame {
        return Err(too_large());
    }
    buf[..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(buf)
}

/// Decodes `bytes` as exactly one whole frame: a short input is `Truncated`, a length over
/// `max_frame` is `FrameTooLarge` (checked before anything else), bytes after the frame are a
/// `Protocol` error, bad JSON is `Decode`. Never panics (the fuzz target's shape).
pub fn decode_frame<T: DeserializeOwned>(bytes: &[u8], max_frame: u32) -> Result<T, LinkError> {
    let Some(len) = payload_len(bytes, max_frame)? else {
        return Err(truncated(bytes.len(), HEADER_LEN));
    };
    let body = &bytes[HEADER_LEN..];
    if body.len() < len {
        return Err(truncated(bytes.len(), HEADER_LEN + len));
    }
    if body.len() > len {
        return Err(LinkError::Protocol(format!(
            "{} bytes after the end of a {len}-byte frame",
            body.len() - len
        )));
    }
    serde_json::from_slice(body).map_err(LinkError::Decode)
}

/// The payload length announced at the start of `buf`, once the prefix is complete; refused
/// when over `max_frame`.
fn payload_len(buf: &[u8], max_frame: u32) -> Result<Option<usize>, LinkError> {
    let Some(prefix) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*prefix);
    let too_large = LinkError::FrameTooLarge {
        len: len.into(),
        max: max_frame,
    };
    if len > max_frame {
        return Err(too_large);
    }
    usize::try_from(len).map(Some).map_err(|_| too_large)
}

fn truncated(got: usize, want: usize) -> LinkError {
    LinkError::Truncated {
        got: got as u64,
        want: want as u64,
    }
}

/// The reading half: buffers what the stream delivers and hands out whole frames.
#[derive(Debug)]
pub(crate) struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_frame: u32,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(inner: R, max_frame: u32) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            max_frame,
        }
    }

    pub(crate) fn set_max_frame(&mut self, max_frame: u32) {
        self.max_frame = max_frame;
    }

    /// The next frame decoded as `T`.
    ///
    /// Cancel-safe: the only await is a single `read_buf` into the internal buffer, which
    /// reads nothing when cancelled; bytes already read stay buffered for the next call. A
    /// frame that does not decode is consumed whole (`Decode`), so the stream stays in sync.
    /// The buffer grows with the bytes received (at most twice them plus one read chunk).
    pub(crate) async fn next<T: DeserializeOwned>(&mut self) -> Result<T, LinkError> {
        loop {
            if let Some(len) = payload_len(&self.buf, self.max_frame)? {
                let end = HEADER_LEN + len;
                if self.buf.len() >= end {
                    return self.take(end);
                }
                // Grow with what arrived (at most doubling), not with what the prefix
                // announced: four bytes must not make the reader allocate up to `max_frame`.
                let ahead = (end - self.buf.len()).min(self.buf.len().max(READ_CHUNK));
                self.buf.reserve_exact(ahead);
            }
            self.fill().await?;
        }
    }

    /// Decodes the buffered frame ending at `end` and drops it from the buffer.
    fn take<T: DeserializeOwned>(&mut self, end: usize) -> Result<T, LinkError> {
        let msg = serde_json::from_slice(&self.buf[HEADER_LEN..end]).map_err(LinkError::Decode);
        self.buf.drain(..end);
        if self.buf.capacity() > KEEP_CAPACITY && self.buf.len() <= READ_CHUNK {
            self.buf.shrink_to(READ_CHUNK);
        }
        msg
    }

    /// Reads once from the stream into the buffer.
    async fn fill(&mut self) -> Result<(), LinkError> {
        if self.buf.len() == self.buf.capacity() {
            self.buf.reserve(READ_CHUNK);
        }
        if self.inner.read_buf(&mut self.buf).await? > 0 {
            return Ok(());
        }
        if self.buf.is_empty() {
            return Err(LinkError::Closed);
        }
        let want = payload_len(&self.buf, self.max_frame)?.map_or(HEADER_LEN, |l| HEADER_LEN + l);
        Err(truncated(self.buf.len(), want))
    }

    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// The writing half: one frame per message, flushed.
#[derive(Debug)]
pub(crate) struct FrameWriter<W> {
    inner: W,
    max_frame: u32,
    /// Set while a frame is being written; still set when a write was cancelled or failed.
    mid_frame: bool,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    pub(crate) fn new(inner: W, max_frame: u32) -> Self {
        Self {
            inner,
            max_frame,
            mid_frame: false,
        }
    }

    pub(crate) fn set_max_frame(&mut self, max_frame: u32) {
        self.max_frame = max_frame;
    }

    /// Writes `msg` as one frame and flushes.
    ///
    /// Not cancel-safe: a cancelled send may leave part of a frame on the wire; every later
    /// send then fails with `Interrupted`.
    pub(crate) async fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<(), LinkError> {
        if self.mid_frame {
            return Err(LinkError::Interrupted);
        }
        let frame = encode_frame(msg, self.max_frame)?;
        self.mid_frame = true;
        self.inner.write_all(&frame).await?;
        self.inner.flush().await?;
        self.mid_frame = false;
        Ok(())
    }

    /// Flushes and shuts the stream down (the peer's reader sees `Closed`).
    pub(crate) async fn shutdown(&mut self) -> Result<(), LinkError> {
        Ok(self.inner.shutdown().await?)
    }
}

#[cfg(test)]
mod tests;
