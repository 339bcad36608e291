//! Token generation as an iterator.
use crate::error::{Error, Result, Status};
use crate::{Batch, Context, Sampler, Token};

/// The sequence generation runs on.
const SEQ: i32 = 0;

/// Yields generated tokens one at a time; made by `Context::generate`. Each step decodes the
/// previous token, so the model runs once per token and never for a token nobody asked for.
pub struct Generate<'c, 'm> {
    context: &'c mut Context<'m>,
    sampler: Sampler,
    batch: Batch,
    next_pos: i32,
    remaining: usize,
    /// The last token yielded, not yet decoded.
    pending: Option<Token>,
    finished: bool,
}

impl<'c, 'm> Generate<'c, 'm> {
    pub(crate) fn new(
        context: &'c mut Context<'m>,
        prompt: &[Token],
        sampler: Sampler,
        max_tokens: usize,
    ) -> Result<Self> {
        if prompt.is_empty() {
            return Err(Error::new(
                Status::InvalidArgument,
                "generate needs at least one prompt token",
            ));
        }
        let n_batch = context.n_batch() as usize;
        let mut batch = Batch::new(n_batch)?;
        let mut next_pos = context.seq_pos_max(SEQ).map_or(0, |pos| pos + 1);
        for (chunk_index, chunk) in prompt.chunks(n_batch).enumerate() {
            batch.clear();
            let is_last_chunk = (chunk_index + 1) * n_batch >= prompt.len();
            for (i, &token) in chunk.iter().enumerate() {
                batch.add(token, next_pos, &[SEQ], is_last_chunk && i + 1 == chunk.len())?;
                next_pos += 1;
            }
            context.decode(&batch)?;
        }
        Ok(Generate {
            context,
            sampler,
            batch,
            next_pos,
            remaining: max_tokens,
            pending: None,
            finished: false,
        })
    }

    fn step(&mut self) -> Result<Option<Token>> {
        if let Some(token) = self.pending.take() {
            self.batch.clear();
            self.batch.add(token, self.next_pos, &[SEQ], true)?;
            self.context.decode(&self.batch)?;
            self.next_pos += 1;
        }
        let token = self.sampler.sample(self.context, -1)?;
        if self.context.model().is_eog(token) {
            return Ok(None);
        }
        self.pending = Some(token);
        Ok(Some(token))
    }
}

impl Iterator for Generate<'_, '_> {
    type Item = Result<Token>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished || self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let step = self.step();
        // After the end of generation or an error, the iterator stays finished.
        self.finished = !matches!(step, Ok(Some(_)));
        step.transpose()
    }
}
