//! A spare QuickJS runtime per thread, reused by the next step on that thread.
//!
//! Every step still gets a fresh context (its own globals, modules and heap objects); only
//! the runtime — the allocator, atom table and module loader — is reused, which saves
//! creating and tearing one down per step. A runtime is taken back only when nothing of the
//! previous step survives in it: no pending promise jobs or host futures, and after a
//! garbage collection exactly the objects and functions it had when new. A step that was
//! killed (timeout, memory, state too large) or cancelled never gives its runtime back.
//! Limits (memory, stack, interrupt handler) are set again for every step by the caller.
//!
//! Work that doesn't depend on the step is kept off the path a caller waits on: a finished
//! step's context is dropped after its result is handed over ([`retire`], [`finish_retired`]),
//! and an engine worker with nothing to do prepares the next step's context in advance
//! ([`prepare`]): a fresh context in which only bolt's own modules (the prelude and
//! language-common's core) have been evaluated — no job code and no step data has ever been in it,
//! and module evaluation reads no globals, so it is the context the step would have made.
//!
//! One runtime-wide cache needs care: rquickjs remembers the prototype of Rust functions
//! from the first context that makes one and gives it to Rust functions of every later
//! context. A new runtime therefore first makes a Rust function in a small anchor context
//! (no `eval`, frozen prototypes, never seen by a job), and every host function a step
//! installs is re-parented to its own context's `Function.prototype` ([`host_function`]).

use super::loader::{JobLoader, JobResolver};
use rquickjs::function::IntoJsFunc;
use rquickjs::module::Module;
use rquickjs::{AsyncContext, AsyncRuntime, Ctx, Function, Object};
use std::cell::RefCell;

/// A runtime and what a clean one holds: the anchor context's objects and functions.
pub struct WarmRuntime {
    pub runtime: AsyncRuntime,
    clean_objects: i64,
    clean_functions: i64,
}

/// A context prepared in advance, and its runtime.
pub struct Prepared {
    pub warm: WarmRuntime,
    pub context: AsyncContext,
}

/// A finished step's context, waiting to be dropped; `reusable`: its runtime may be kept.
struct Retired {
    warm: WarmRuntime,
    context: AsyncContext,
    reusable: bool,
}

thread_local! {
    /// The built-in adaptor modules the last step on this thread imported (see [`prepare`]).
    static LAST_STEP_MODULES: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
    static SPARE: RefCell<Option<WarmRuntime>> = const { RefCell::new(None) };
    static PREPARED: RefCell<Option<Prepared>> = const { RefCell::new(None) };
    static RETIRED: RefCell<Option<Retired>> = const { RefCell::new(None) };
}

/// Modules evaluated in a prepared context: bolt's own, and the part of language-common
/// nearly every job imports (compiled jobs import its sub-modules, not the whole adaptor).
/// (`Buffer` is loaded when a job first reads it.)
const PRELOADED_MODULES: [&str; 3] = [
    super::loader::PRELUDE_MODULE,
    "@openfn/language-common/core",
    "@openfn/language-common/data",
];
/// Memory limit while a context is prepared (each step sets its own afterwards).
const PREPARE_MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// The context prepared on this thread, if any.
pub async fn take_prepared() -> Option<Prepared> {
    finish_retired().await;
    PREPARED.with(|prepared| prepared.borrow_mut().take())
}

/// A step starts: from now on the built-in adaptor modules it imports are noted.
pub fn start_noting_modules() {
    LAST_STEP_MODULES.with(|noted| noted.borrow_mut().clear());
}

/// Notes a built-in adaptor module the running step imports (the resolver calls this).
pub fn note_module(name: &'static str) {
    LAST_STEP_MODULES.with(|noted| {
        let mut noted = noted.borrow_mut();
        if !noted.contains(&name) {
            noted.push(name);
        }
    });
}

/// Prepares the next step's context on this thread (an idle engine worker calls this).
/// Besides [`PRELOADED_MODULES`], it evaluates the built-in adaptor modules the last step
/// here imported: boltd runs the same jobs again and again, and a job on an npm adaptor
/// that uses more of language-common (its cursor, dates, HTTP helpers…) then finds them
/// ready. Built-in adaptor modules read no globals when evaluated, so loading them early
/// changes nothing a job can see.
pub async fn prepare() {
    finish_retired().await;
    if PREPARED.with(|prepared| prepared.borrow().is_some()) {
        return;
    }
    let Ok(warm) = take().await else { return };
    warm.runtime.set_memory_limit(PREPARE_MEMORY_LIMIT).await;
    let Ok(context) = AsyncContext::full(&warm.runtime).await else {
        return;
    };
    let loaded = context
        .async_with(async |ctx| {
            let noted = LAST_STEP_MODULES.with(|noted| noted.borrow().clone());
            for name in PRELOADED_MODULES.iter().copied().chain(noted) {
                Module::import(&ctx, name)?.into_future::<Object>().await?;
            }
            Ok::<_, rquickjs::Error>(())
        })
        .await;
    if loaded.is_err() || warm.runtime.is_job_pending().await {
        return;
    }
    PREPARED.with(|prepared| *prepared.borrow_mut() = Some(Prepared { warm, context }));
}

/// Hands a finished step's context over for dropping later (see [`finish_retired`]).
pub async fn retire(warm: WarmRuntime, context: AsyncContext, reusable: bool) {
    finish_retired().await;
    RETIRED.with(|retired| {
        *retired.borrow_mut() = Some(Retired {
            warm,
            context,
            reusable,
        })
    });
}

/// Drops the retired context, keeping its runtime when it is clean.
pub async fn finish_retired() {
    let Some(retired) = RETIRED.with(|retired| retired.borrow_mut().take()) else {
        return;
    };
    drop(retired.context);
    if retired.reusable {
        give_back(retired.warm).await;
    }
}

/// This thread's spare runtime, or a new one (with bolt's module loader).
pub async fn take() -> rquickjs::Result<WarmRuntime> {
    finish_retired().await;
    if let Some(warm) = SPARE.with(|spare| spare.borrow_mut().take()) {
        return Ok(warm);
    }
    let runtime = AsyncRuntime::new()?;
    runtime.set_loader(JobResolver, JobLoader).await;
    let anchor = AsyncContext::base(&runtime).await?;
    anchor.with(|ctx| anchor_prototype_cache(&ctx)).await?;
    drop(anchor);
    runtime.run_gc().await;
    let usage = runtime.memory_usage().await;
    Ok(WarmRuntime {
        runtime,
        clean_objects: usage.obj_count,
        clean_functions: usage.js_func_count,
    })
}

/// Makes the runtime's cached Rust-function prototype the anchor's, and freezes it.
fn anchor_prototype_cache(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let _ = Function::new(ctx.clone(), || ())?;
    let object: Object = ctx.globals().get("Object")?;
    let freeze: Function = object.get("freeze")?;
    let function_prototype = Function::prototype(ctx.clone());
    let object_prototype: Object = object.get("prototype")?;
    freeze.call::<_, ()>((function_prototype,))?;
    freeze.call::<_, ()>((object_prototype,))?;
    Ok(())
}

/// A host function whose prototype is `ctx`'s own `Function.prototype` (see the module docs).
pub fn host_function<'js, P, F>(ctx: &Ctx<'js>, f: F) -> rquickjs::Result<Function<'js>>
where
    F: IntoJsFunc<'js, P> + 'js,
{
    let function = Function::new(ctx.clone(), f)?;
    function.set_prototype(Some(&Function::prototype(ctx.clone())))?;
    Ok(function)
}

/// Keeps the runtime for the next step on this thread if it is clean; drops it otherwise.
/// The step's context must already be dropped.
async fn give_back(warm: WarmRuntime) {
    let runtime = &warm.runtime;
    if runtime.is_job_pending().await {
        return;
    }
    runtime.run_gc().await;
    let usage = runtime.memory_usage().await;
    if usage.obj_count != warm.clean_objects || usage.js_func_count != warm.clean_functions {
        return;
    }
    // Release what the step's handler captured (its cancel token) while the runtime waits.
    runtime.set_interrupt_handler(None).await;
    SPARE.with(|spare| *spare.borrow_mut() = Some(warm));
}

/// Drops everything this thread keeps (its prepared context, retired context, spare runtime).
pub fn discard() {
    PREPARED.with(|prepared| prepared.borrow_mut().take());
    RETIRED.with(|retired| retired.borrow_mut().take());
    SPARE.with(|spare| spare.borrow_mut().take());
}

/// Whether this thread holds a prepared context (for tests).
pub fn has_prepared() -> bool {
    PREPARED.with(|prepared| prepared.borrow().is_some())
}

/// Whether this thread holds a spare runtime (for tests).
pub fn has_spare() -> bool {
    SPARE.with(|spare| spare.borrow().is_some())
}
