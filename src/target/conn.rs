//! A TCP listener whose connections a handler can cut, so the `drop` fault closes the socket
//! without an HTTP answer (what a crashed or overloaded server looks like to Entra:
//! `WebExceptionProtocolError`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Wraps a bound `TcpListener`.
pub struct KillableListener(pub TcpListener);

/// Per-connection handle, available to handlers as `ConnectInfo<Conn>`.
#[derive(Debug, Clone)]
pub struct Conn {
    kill: Arc<AtomicBool>,
}

impl Conn {
    /// Makes every further read and write on this connection fail, so the server drops it.
    pub fn kill(&self) {
        self.kill.store(true, Ordering::SeqCst);
    }
}

/// A TCP stream that fails once its [`Conn`] is killed.
pub struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by fault rule",
    )
}

impl KillableStream {
    fn killed(&self) -> bool {
        self.kill.load(Ordering::SeqCst)
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    // Small answers must not wait for Nagle; tests measure latency faults.
                    let _ = inner.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    let conn = Conn { kill: kill.clone() };
                    return (KillableStream { inner, kill }, conn);
                }
                // Accept errors (e.g. out of file descriptors) are transient; back off briefly.
                // The target is a stand-alone test double: it cannot use crate::clock (tidy rule).
                #[allow(clippy::disallowed_methods)]
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr().map(|_| Conn {
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}
