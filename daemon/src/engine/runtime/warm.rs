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
//! One runtime-wide cache needs care: rquickjs remembers the prototype of Rust functions
//! from the first context that makes one and gives it to Rust functions of every later
//! context. A new runtime therefore first makes a Rust function in a small anchor context
//! (no `eval`, frozen prototypes, never seen by a job), and every host function a step
//! installs is re-parented to its own context's `Function.prototype` ([`host_function`]).

use super::loader::{JobLoader, JobResolver};
use rquickjs::function::IntoJsFunc;
use rquickjs::{AsyncContext, AsyncRuntime, Ctx, Function, Object};
use std::cell::RefCell;

/// A runtime and what a clean one holds: the anchor context's objects and functions.
pub struct WarmRuntime {
    pub runtime: AsyncRuntime,
    clean_objects: i64,
    clean_functions: i64,
}

thread_local! {
    static SPARE: RefCell<Option<WarmRuntime>> = const { RefCell::new(None) };
}

/// This thread's spare runtime, or a new one (with bolt's module loader).
pub async fn take() -> rquickjs::Result<WarmRuntime> {
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
pub async fn give_back(warm: WarmRuntime) {
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

/// Drops this thread's spare runtime.
pub fn discard() {
    SPARE.with(|spare| spare.borrow_mut().take());
}

/// Whether this thread holds a spare runtime (for tests).
pub fn has_spare() -> bool {
    SPARE.with(|spare| spare.borrow().is_some())
}
