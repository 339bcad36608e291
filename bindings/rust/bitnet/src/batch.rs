//! Batches: the tokens of one decode call, each with its position and sequences.
use std::ptr::{self, NonNull};

use bitnet_sys as sys;

use crate::error::{check, Error, Result, Status};
use crate::Token;

pub struct Batch {
    raw: NonNull<sys::bitnet_batch>,
}

// A batch is plain data owned by one thread at a time.
unsafe impl Send for Batch {}

impl Batch {
    pub fn new(capacity: usize) -> Result<Batch> {
        let capacity =
            i32::try_from(capacity).map_err(|_| Error::new(Status::InvalidArgument, "capacity too large"))?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::bitnet_batch_new(capacity, &mut raw) })?;
        let raw = NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "no batch returned"))?;
        Ok(Batch { raw })
    }

    pub(crate) fn as_ptr(&self) -> *const sys::bitnet_batch {
        self.raw.as_ptr()
    }

    /// Appends a token at `pos` of each sequence in `seq_ids`; `logits` asks for its logits.
    /// A full batch is an error with status BufferTooSmall.
    pub fn add(&mut self, token: Token, pos: i32, seq_ids: &[i32], logits: bool) -> Result<()> {
        let n_seq_ids =
            i32::try_from(seq_ids.len()).map_err(|_| Error::new(Status::InvalidArgument, "too many sequences"))?;
        check(unsafe { sys::bitnet_batch_add(self.raw.as_ptr(), token, pos, seq_ids.as_ptr(), n_seq_ids, logits) })
    }

    pub fn clear(&mut self) {
        unsafe { sys::bitnet_batch_clear(self.raw.as_ptr()) }
    }

    pub fn len(&self) -> usize {
        unsafe { sys::bitnet_batch_size(self.raw.as_ptr()) as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        unsafe { sys::bitnet_batch_free(self.raw.as_ptr()) }
    }
}
