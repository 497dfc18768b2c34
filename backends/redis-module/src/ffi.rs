//! The module's registration and the swarm type's callbacks: the only `unsafe` of the crate.
//! Redis hands the callbacks the value pointers it got from `set_value` (a `Box<Swarm>` turned
//! into a raw pointer by the `redis-module` crate), so each callback turns them back into
//! references for the duration of the call, or, in `free`, back into the box.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};

use redis_module::native_types::RedisType;
use redis_module::raw;

use crate::encoding;
use crate::swarm::Swarm;

/// The swarm type: its name (exactly 9 characters, as Redis requires) and the version of its
/// serialized form ([`encoding::VERSION`]), which RDB files record with each value.
pub(crate) static SWARM_TYPE: RedisType = RedisType::new(
    "octoswarm",
    encoding::VERSION as i32,
    raw::RedisModuleTypeMethods {
        version: raw::REDISMODULE_TYPE_METHOD_VERSION as u64,
        rdb_load: Some(rdb_load),
        rdb_save: Some(rdb_save),
        aof_rewrite: Some(aof_rewrite),
        mem_usage: Some(mem_usage),
        digest: None,
        free: Some(free),
        aux_load: None,
        aux_save: None,
        aux_save2: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: None,
        defrag: None,
        copy2: None,
        free_effort2: None,
        mem_usage2: None,
        unlink2: None,
    },
);

/// Reads a swarm written by `rdb_save` under any known encoding version; null (Redis stops
/// loading the file with an error) for a damaged one.
unsafe extern "C" fn rdb_load(rdb: *mut raw::RedisModuleIO, encver: c_int) -> *mut c_void {
    let Ok(blob) = raw::load_string_buffer(rdb) else { return std::ptr::null_mut() };
    // The blob carries its version too; an RDB value of a newer type version is refused.
    if encver > c_int::from(encoding::VERSION) {
        return std::ptr::null_mut();
    }
    match encoding::decode(blob.as_ref()) {
        Ok(swarm) => Box::into_raw(Box::new(swarm)).cast(),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Writes a swarm as one string (the newest encoding).
unsafe extern "C" fn rdb_save(rdb: *mut raw::RedisModuleIO, value: *mut c_void) {
    // SAFETY: Redis passes a value of this type, which `set_value` made from a `Box<Swarm>`.
    let swarm = unsafe { &*value.cast::<Swarm>() };
    raw::save_slice(rdb, &encoding::encode(swarm));
}

/// Writes the command that rebuilds the swarm: `OCTO.RESTORE key blob` (Redis adds the TTL).
unsafe extern "C" fn aof_rewrite(aof: *mut raw::RedisModuleIO, key: *mut raw::RedisModuleString, value: *mut c_void) {
    // SAFETY: as in `rdb_save`.
    let swarm = unsafe { &*value.cast::<Swarm>() };
    let blob = encoding::encode(swarm);
    // SAFETY: the format "sb" takes a RedisModuleString (the key Redis passed) and a buffer
    // with its length, which outlives the call.
    unsafe {
        raw::RedisModule_EmitAOF.expect("Redis exports EmitAOF")(
            aof,
            c"OCTO.RESTORE".as_ptr(),
            c"sb".as_ptr(),
            key,
            blob.as_ptr(),
            blob.len(),
        );
    }
}

/// What `MEMORY USAGE` adds for the value.
unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    // SAFETY: as in `rdb_save`.
    let swarm = unsafe { &*value.cast::<Swarm>() };
    swarm.mem_usage()
}

/// Frees a value Redis is done with.
unsafe extern "C" fn free(value: *mut c_void) {
    // SAFETY: the pointer came from `Box::into_raw` (in `set_value` or `rdb_load`), and Redis
    // frees each value once.
    drop(unsafe { Box::from_raw(value.cast::<Swarm>()) });
}

/// The registration (not in unit tests: it makes Redis's allocator the global one, which only
/// exists inside redis-server).
#[cfg(not(test))]
mod registration {
    use redis_module::{Context, RedisString, Status, redis_module};

    use super::SWARM_TYPE;
    use crate::commands;

    fn init(_ctx: &Context, _args: &[RedisString]) -> Status {
        Status::Ok
    }

    redis_module! {
        name: "octotracker",
        version: 2,
        allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
        data_types: [SWARM_TYPE],
        init: init,
        commands: [
            ["octo.announce", commands::announce, "write deny-oom fast", 1, 1, 1, ""],
            ["octo.scrape", commands::scrape, "readonly fast", 1, 1, 1, ""],
            ["octo.families", commands::families, "readonly fast", 1, 1, 1, ""],
            ["octo.expire", commands::expire, "write", 1, 1, 1, ""],
            ["octo.restore", commands::restore, "write deny-oom", 1, 1, 1, ""],
        ],
    }
}
