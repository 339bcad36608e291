//! Status codes and messages of the C API as a Rust error type.
use std::ffi::CStr;
use std::fmt;

use bitnet_sys as sys;

/// What kind of failure the library reported (`bitnet_status` in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InvalidArgument,
    Io,
    InvalidModel,
    Unsupported,
    OutOfMemory,
    Cancelled,
    ContextFull,
    InvalidInput,
    Aborted,
    Backend,
    BufferTooSmall,
    InvalidState,
    Internal,
    /// A code this binding does not know yet (the header only ever adds codes).
    Other(i32),
}

impl Status {
    fn from_code(code: sys::bitnet_status) -> Status {
        match code {
            sys::BITNET_ERR_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::BITNET_ERR_IO => Status::Io,
            sys::BITNET_ERR_INVALID_MODEL => Status::InvalidModel,
            sys::BITNET_ERR_UNSUPPORTED => Status::Unsupported,
            sys::BITNET_ERR_OUT_OF_MEMORY => Status::OutOfMemory,
            sys::BITNET_ERR_CANCELLED => Status::Cancelled,
            sys::BITNET_ERR_CONTEXT_FULL => Status::ContextFull,
            sys::BITNET_ERR_INVALID_INPUT => Status::InvalidInput,
            sys::BITNET_ERR_ABORTED => Status::Aborted,
            sys::BITNET_ERR_BACKEND => Status::Backend,
            sys::BITNET_ERR_BUFFER_TOO_SMALL => Status::BufferTooSmall,
            sys::BITNET_ERR_INVALID_STATE => Status::InvalidState,
            sys::BITNET_ERR_INTERNAL => Status::Internal,
            other => Status::Other(other),
        }
    }
}

/// A failed call: its status and the library's message saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }

    /// The calling thread's last error message, read right after the failing call.
    pub(crate) fn last(status: Status) -> Error {
        let message = unsafe { CStr::from_ptr(sys::bitnet_last_error()) };
        Error::new(status, message.to_string_lossy())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.status, self.message)
    }
}

impl std::error::Error for Error {}

/// Turns a returned status into a Result.
pub(crate) fn check(code: sys::bitnet_status) -> Result<()> {
    if code == sys::BITNET_OK {
        Ok(())
    } else {
        Err(Error::last(Status::from_code(code)))
    }
}

/// Calls a C function that fills a buffer and returns a count (see "Vocabulary and tokenizer" in
/// bitnet.h): a negative count asks for a bigger buffer, so it is called again with that size.
/// The count functions report no status of their own; their failures are invalid arguments.
pub(crate) fn fill<T: Copy + Default>(first_guess: usize, mut call: impl FnMut(*mut T, i32) -> i32) -> Result<Vec<T>> {
    let mut buffer = vec![T::default(); first_guess];
    loop {
        let capacity =
            i32::try_from(buffer.len()).map_err(|_| Error::new(Status::InvalidArgument, "output too large"))?;
        let count = call(buffer.as_mut_ptr(), capacity);
        if count == sys::BITNET_COUNT_ERROR {
            return Err(Error::last(Status::InvalidArgument));
        }
        if count >= 0 {
            buffer.truncate(count as usize);
            return Ok(buffer);
        }
        buffer.resize(count.unsigned_abs() as usize, T::default());
    }
}
