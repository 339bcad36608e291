//! Samplers: a chain of members that turns logits into the next token.
use std::ffi::CStr;
use std::ptr::{self, NonNull};

use bitnet_sys as sys;

use crate::error::{check, Error, Result, Status};
use crate::{Context, Token};

/// A sampler chain, built with `Sampler::chain()` or `Sampler::greedy()`.
pub struct Sampler {
    raw: NonNull<sys::bitnet_sampler>,
}

// A sampler belongs to one thread at a time.
unsafe impl Send for Sampler {}

/// One member of a chain; see the "Sampling" section of bitnet.h for what each does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Member {
    Penalties {
        last_n: i32,
        repeat: f32,
        frequency: f32,
        presence: f32,
    },
    TopK(i32),
    TopP(f32, usize),
    MinP(f32, usize),
    Typical(f32, usize),
    Temperature(f32),
    Greedy,
    Dist(u32),
}

/// Records members in the order they will run; `build` makes the chain. Nothing touches the
/// library until then, so a bad parameter is reported once, by `build`.
#[derive(Debug, Clone, Default)]
pub struct SamplerBuilder {
    members: Vec<Member>,
}

impl SamplerBuilder {
    pub fn penalties(self, last_n: i32, repeat: f32, frequency: f32, presence: f32) -> Self {
        self.with(Member::Penalties {
            last_n,
            repeat,
            frequency,
            presence,
        })
    }
    pub fn top_k(self, k: i32) -> Self {
        self.with(Member::TopK(k))
    }
    pub fn top_p(self, p: f32, min_keep: usize) -> Self {
        self.with(Member::TopP(p, min_keep))
    }
    pub fn min_p(self, p: f32, min_keep: usize) -> Self {
        self.with(Member::MinP(p, min_keep))
    }
    pub fn typical(self, p: f32, min_keep: usize) -> Self {
        self.with(Member::Typical(p, min_keep))
    }
    pub fn temperature(self, temperature: f32) -> Self {
        self.with(Member::Temperature(temperature))
    }
    /// Selects the most likely candidate; ends the chain.
    pub fn greedy(self) -> Self {
        self.with(Member::Greedy)
    }
    /// Draws a candidate at random with this seed (`sys::BITNET_DEFAULT_SEED`: a random one);
    /// ends the chain.
    pub fn dist(self, seed: u32) -> Self {
        self.with(Member::Dist(seed))
    }

    fn with(mut self, member: Member) -> Self {
        self.members.push(member);
        self
    }

    pub fn build(&self) -> Result<Sampler> {
        let mut chain = ptr::null_mut();
        check(unsafe { sys::bitnet_sampler_chain_new(ptr::null(), &mut chain) })?;
        let chain = Sampler {
            raw: NonNull::new(chain).ok_or_else(|| Error::new(Status::Internal, "no chain returned"))?,
        };
        for member in &self.members {
            let mut raw = ptr::null_mut();
            check(unsafe {
                match *member {
                    Member::Penalties {
                        last_n,
                        repeat,
                        frequency,
                        presence,
                    } => sys::bitnet_sampler_init_penalties(last_n, repeat, frequency, presence, &mut raw),
                    Member::TopK(k) => sys::bitnet_sampler_init_top_k(k, &mut raw),
                    Member::TopP(p, min_keep) => sys::bitnet_sampler_init_top_p(p, min_keep, &mut raw),
                    Member::MinP(p, min_keep) => sys::bitnet_sampler_init_min_p(p, min_keep, &mut raw),
                    Member::Typical(p, min_keep) => sys::bitnet_sampler_init_typical(p, min_keep, &mut raw),
                    Member::Temperature(t) => sys::bitnet_sampler_init_temperature(t, &mut raw),
                    Member::Greedy => sys::bitnet_sampler_init_greedy(&mut raw),
                    Member::Dist(seed) => sys::bitnet_sampler_init_dist(seed, &mut raw),
                }
            })?;
            // On success the chain owns the member; on failure it is still ours to free.
            if let Err(error) = check(unsafe { sys::bitnet_sampler_chain_add(chain.raw.as_ptr(), raw) }) {
                unsafe { sys::bitnet_sampler_free(raw) };
                return Err(error);
            }
        }
        Ok(chain)
    }
}

impl Sampler {
    pub fn chain() -> SamplerBuilder {
        SamplerBuilder::default()
    }

    /// Always the most likely token (the lowest id among equals).
    pub fn greedy() -> Result<Sampler> {
        Sampler::chain().greedy().build()
    }

    /// Samples from the logits of batch entry `i` of the context's last decode (-1: the last
    /// entry that asked for logits) and accepts the token into the chain's history.
    pub fn sample(&mut self, context: &mut Context<'_>, i: i32) -> Result<Token> {
        let token = unsafe { sys::bitnet_sampler_sample(self.raw.as_ptr(), context.as_ptr(), i) };
        if token == sys::BITNET_TOKEN_NULL {
            return Err(Error::last(Status::InvalidInput));
        }
        Ok(token)
    }

    /// Adds a token (a prompt's, say) to the history that penalties look at.
    pub fn accept(&mut self, token: Token) -> Result<()> {
        check(unsafe { sys::bitnet_sampler_accept(self.raw.as_ptr(), token) })
    }

    /// Forgets the history and restarts random streams from their seeds.
    pub fn reset(&mut self) {
        unsafe { sys::bitnet_sampler_reset(self.raw.as_ptr()) }
    }

    /// The seed of the chain's first dist member (`BITNET_DEFAULT_SEED` when it has none).
    pub fn seed(&self) -> u32 {
        unsafe { sys::bitnet_sampler_get_seed(self.raw.as_ptr()) }
    }

    pub fn name(&self) -> String {
        unsafe { CStr::from_ptr(sys::bitnet_sampler_name(self.raw.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        unsafe { sys::bitnet_sampler_free(self.raw.as_ptr()) }
    }
}
