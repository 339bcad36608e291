//! Models, their vocabulary, and streaming detokenization.
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};

use bitnet_sys as sys;

use crate::error::{check, fill, Error, Result, Status};
use crate::Token;

/// A loaded model. Immutable, so it may be shared by any number of contexts and threads.
pub struct Model {
    raw: NonNull<sys::bitnet_model>,
}

// The header's threading contract: a model is immutable after loading.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Maps a GGUF file and loads the model from it.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path_to_cstring(path.as_ref())?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::bitnet_model_load_file(path.as_ptr(), ptr::null(), &mut raw) })?;
        let raw = NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "load returned no model"))?;
        Ok(Model { raw })
    }

    pub fn as_ptr(&self) -> *const sys::bitnet_model {
        self.raw.as_ptr()
    }

    pub fn architecture(&self) -> String {
        unsafe { CStr::from_ptr(sys::bitnet_model_architecture(self.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }

    pub fn n_vocab(&self) -> i32 {
        unsafe { sys::bitnet_model_n_vocab(self.as_ptr()) }
    }

    pub fn n_embd(&self) -> i32 {
        unsafe { sys::bitnet_model_n_embd(self.as_ptr()) }
    }

    pub fn n_ctx_train(&self) -> i32 {
        unsafe { sys::bitnet_model_n_ctx_train(self.as_ptr()) }
    }

    /// Tokenizes UTF-8 text (invalid bytes are tokenized too, see bitnet_tokenize()).
    pub fn tokenize(&self, text: impl AsRef<[u8]>, add_special: bool, parse_special: bool) -> Result<Vec<Token>> {
        let text = text.as_ref();
        let text_len = i32::try_from(text.len()).map_err(|_| Error::new(Status::InvalidArgument, "text too long"))?;
        fill(text.len() + 2, |tokens, capacity| unsafe {
            sys::bitnet_tokenize(
                self.as_ptr(),
                text.as_ptr() as *const c_char,
                text_len,
                tokens,
                capacity,
                add_special,
                parse_special,
            )
        })
    }

    /// The text of `tokens`, with a leading BOS and trailing EOS left out. Bytes that are not
    /// valid UTF-8 become U+FFFD; use `detokenize_bytes` to see them.
    pub fn detokenize(&self, tokens: &[Token]) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.detokenize_bytes(tokens)?).into_owned())
    }

    pub fn detokenize_bytes(&self, tokens: &[Token]) -> Result<Vec<u8>> {
        let n_tokens =
            i32::try_from(tokens.len()).map_err(|_| Error::new(Status::InvalidArgument, "too many tokens"))?;
        fill(tokens.len() * 4 + 16, |buf: *mut u8, capacity| unsafe {
            sys::bitnet_detokenize(
                self.as_ptr(),
                tokens.as_ptr(),
                n_tokens,
                buf as *mut c_char,
                capacity,
                true,
                false,
            )
        })
    }

    /// True for every token that ends generation (EOS, EOT, ...).
    pub fn is_eog(&self, token: Token) -> bool {
        unsafe { sys::bitnet_token_is_eog(self.as_ptr(), token) }
    }

    pub fn bos(&self) -> Option<Token> {
        let token = unsafe { sys::bitnet_vocab_bos(self.as_ptr()) };
        (token != sys::BITNET_TOKEN_NULL).then_some(token)
    }

    /// A detokenizer that turns a stream of tokens into complete UTF-8 text.
    pub fn detokenizer(&self) -> Result<Detokenizer<'_>> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::bitnet_detokenizer_new(self.as_ptr(), false, &mut raw) })?;
        let raw = NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "no detokenizer returned"))?;
        Ok(Detokenizer { raw, _model: self })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::bitnet_model_free(self.raw.as_ptr()) }
    }
}

/// Feeds tokens one at a time and returns only complete UTF-8 characters.
pub struct Detokenizer<'m> {
    raw: NonNull<sys::bitnet_detokenizer>,
    _model: &'m Model,
}

impl Detokenizer<'_> {
    /// The text `token` completes (possibly empty while a character is split across tokens).
    pub fn push(&mut self, token: Token) -> Result<String> {
        let bytes = fill(64, |buf: *mut u8, capacity| unsafe {
            sys::bitnet_detokenizer_push(self.raw.as_ptr(), token, buf as *mut c_char, capacity)
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Whatever is still held back, and a fresh start.
    pub fn flush(&mut self) -> Result<String> {
        let bytes = fill(64, |buf: *mut u8, capacity| unsafe {
            sys::bitnet_detokenizer_flush(self.raw.as_ptr(), buf as *mut c_char, capacity)
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Drop for Detokenizer<'_> {
    fn drop(&mut self) {
        unsafe { sys::bitnet_detokenizer_free(self.raw.as_ptr()) }
    }
}

#[cfg(unix)]
fn path_to_cstring(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(Status::InvalidArgument, "path contains a NUL byte"))
}

#[cfg(not(unix))]
fn path_to_cstring(path: &Path) -> Result<CString> {
    let text = path
        .to_str()
        .ok_or_else(|| Error::new(Status::InvalidArgument, "path is not valid Unicode"))?;
    CString::new(text).map_err(|_| Error::new(Status::InvalidArgument, "path contains a NUL byte"))
}
