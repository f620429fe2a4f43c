//! The Cranelift protocol, in one place (modelled on bytecodealliance's
//! `cranelift-jit-demo`, `src/jit.rs`): an ISA for the host CPU, a `JITModule`
//! with the Rust helper symbols registered, and `define` which turns one built
//! function into native code.
//!
//! Every generated function has the signature `extern "C" fn(args: *const *mut u8)
//! -> i32`: `args` points at one buffer pointer per operand (inputs, then the
//! output), and the result is a [`Status`] code (0 = ok). The single `unsafe`
//! call of generated code is [`Kernel::call`].

use super::helpers;
use crate::diag::Diag;
use crate::kernels::isa::Isa;
use cranelift_codegen::ir::{types, AbiParam, Signature};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

/// A status returned by generated code.
pub(crate) const STATUS_OK: i32 = 0;
/// A `check_bounds` guard found an offset outside its buffer.
pub(crate) const STATUS_OUT_OF_BOUNDS: i32 = 1;

/// An internal error of the JIT.
pub(crate) fn internal(message: impl std::fmt::Display) -> Diag {
    Diag::internal("jit", message.to_string(), None)
}

/// The JIT state: one per compiled executable (its code lives as long as it does).
pub(crate) struct Jit {
    /// The function builder context, reused for every function.
    pub(crate) builder_ctx: FunctionBuilderContext,
    /// The codegen context, reused (cleared) for every function.
    pub(crate) ctx: Context,
    /// The module that owns the generated code and resolves helper symbols.
    pub(crate) module: JITModule,
    /// Number of functions defined so far (for unique names).
    count: usize,
    /// Whether the ISA has FMA: without it Cranelift's `fma` is a libm call,
    /// so the inline transcendentals multiply and add instead (`exp.rs`).
    pub(crate) fma: bool,
    /// Print each kernel's IR and machine code (`Options::disasm`).
    pub(crate) disasm: bool,
    /// Link the GEMM helpers that log every call (`Options::gemm_log`).
    pub(crate) gemm_log: bool,
}

impl Jit {
    /// Creates the JIT for the host CPU's features up to `isa`: the features
    /// above it are switched off (`isa` must run here; flags are only ever
    /// lowered, never raised above what the CPU has).
    pub(crate) fn for_isa(isa: Isa) -> Result<Jit, Diag> {
        // Step 1: shared flags. `opt_level=speed` with the default (backtracking)
        // register allocator; no PIC, since code is only ever run in this process.
        let mut flags = settings::builder();
        for (name, value) in [
            ("opt_level", "speed"),
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
        ] {
            flags
                .set(name, value)
                .map_err(|e| internal(format!("setting {name}: {e}")))?;
        }
        // Step 2: the ISA of the host, with the CPU's features (SSE4.1, AVX, FMA, ...)
        // detected by `cranelift-native`, so `fma` and vector ops use them.
        let mut isa_builder =
            cranelift_native::builder().map_err(|e| internal(format!("host ISA: {e}")))?;
        let (off, fma) = lowered_flags(isa);
        for name in off {
            isa_builder
                .set(name, "false")
                .map_err(|e| internal(format!("setting {name}: {e}")))?;
        }
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| internal(format!("building the ISA: {e}")))?;
        // Step 3: the JIT builder, with every Rust helper generated code may call.
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        for (name, ptr) in helpers::symbols() {
            builder.symbol(name, ptr);
        }
        // Step 4: the module and reusable contexts.
        let module = JITModule::new(builder);
        Ok(Jit {
            builder_ctx: FunctionBuilderContext::new(),
            ctx: module.make_context(),
            module,
            count: 0,
            fma,
            disasm: false,
            gemm_log: false,
        })
    }

    /// The pointer type of the target.
    pub(crate) fn ptr_type(&self) -> types::Type {
        self.module.target_config().pointer_type()
    }

    /// The signature of every kernel: `(args: *const *mut u8) -> i32`.
    pub(crate) fn kernel_signature(&self) -> Signature {
        let mut sig = self.module.make_signature();
        sig.params.push(AbiParam::new(self.ptr_type()));
        sig.returns.push(AbiParam::new(types::I32));
        sig
    }

    /// Starts a new kernel: clears the context and sets the kernel signature.
    pub(crate) fn begin(&mut self) {
        self.module.clear_context(&mut self.ctx);
        self.ctx.func.signature = self.kernel_signature();
    }

    /// Declares the function built in `self.ctx` and compiles it to machine code.
    pub(crate) fn define(&mut self, what: &str) -> Result<FuncId, Diag> {
        self.count += 1;
        let name = format!("tdsl_{what}_{}", self.count);
        // Step 5: declare the function (exported only within the module).
        let id = self
            .module
            .declare_function(&name, Linkage::Local, &self.ctx.func.signature)
            .map_err(|e| internal(format!("declaring {name}: {e}")))?;
        // Step 6: compile it; the verifier runs here (debug builds and tests).
        // `Options::disasm` prints each kernel's IR and machine code (to
        // inspect the code of a chain).
        let disasm = self.disasm;
        self.ctx.set_disasm(disasm);
        self.module
            .define_function(id, &mut self.ctx)
            .map_err(|e| internal(format!("compiling {name}: {e:?}\n{}", self.ctx.func)))?;
        if disasm {
            let code = self.ctx.compiled_code();
            let bytes = code.map_or(0, |c| c.code_buffer().len());
            let vcode = code.and_then(|c| c.vcode.clone()).unwrap_or_default();
            eprintln!("; {name}: {bytes} bytes\n{}\n{vcode}", self.ctx.func);
        }
        // Step 7: release the function's IR; the context is reused.
        self.module.clear_context(&mut self.ctx);
        Ok(id)
    }

    /// Finalizes every defined function (relocations, executable memory) and
    /// returns their entry points, in the order of `ids`.
    pub(crate) fn finish(&mut self, ids: &[FuncId]) -> Result<Vec<Kernel>, Diag> {
        // Step 8: link: resolve calls to helpers, make the code executable.
        self.module
            .finalize_definitions()
            .map_err(|e| internal(format!("finalizing: {e}")))?;
        // Step 9: the address of each function.
        Ok(ids
            .iter()
            .map(|&id| Kernel {
                code: self.module.get_finalized_function(id),
            })
            .collect())
    }

    /// Imports a helper symbol (registered in [`Jit::for_isa`]) with this signature.
    pub(crate) fn import(
        &mut self,
        name: &str,
        params: &[types::Type],
        returns: &[types::Type],
    ) -> Result<FuncId, Diag> {
        let mut sig = self.module.make_signature();
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns
            .extend(returns.iter().map(|&t| AbiParam::new(t)));
        self.module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(|e| internal(format!("importing {name}: {e}")))
    }
}

/// The Cranelift flags to switch off for `isa` on this host, and whether FMA
/// stays on. AVX2 drops AVX-512; portable also drops AVX, AVX2, FMA and the
/// BMI/LZCNT group (x86-64-v3), keeping SSE4.2 (rounding, blends) when the CPU
/// has it.
fn lowered_flags(isa: Isa) -> (Vec<&'static str>, bool) {
    const AVX512: [&str; 7] = [
        "has_avx512f",
        "has_avx512dq",
        "has_avx512vl",
        "has_avx512vbmi",
        "has_avx512bitalg",
        "has_avx512vnni",
        "has_avx_vnni",
    ];
    const V3: [&str; 6] = [
        "has_avx",
        "has_avx2",
        "has_fma",
        "has_bmi1",
        "has_bmi2",
        "has_lzcnt",
    ];
    let mut off: Vec<&str> = Vec::new();
    if cfg!(target_arch = "x86_64") {
        if isa != Isa::Avx512 {
            off.extend(AVX512);
        }
        if isa == Isa::Portable {
            off.extend(V3);
        }
    }
    (off, isa.has_fma())
}

/// The entry point of a finalized kernel.
#[derive(Clone, Copy)]
pub(crate) struct Kernel {
    code: *const u8,
}

// SAFETY: `code` points at finalized, immutable machine code that lives as
// long as the `Executable` (which holds the `JITModule`); the kernels keep no
// state between calls, so calling one from several threads at once is sound
// as long as the calls write disjoint memory (which `parallel.rs` ensures).
unsafe impl Send for Kernel {}
unsafe impl Sync for Kernel {}

impl Kernel {
    /// Runs the kernel on `args` (one pointer per operand, inputs then outputs)
    /// and returns its status.
    ///
    /// The caller must pass, for every operand `k` the kernel was compiled for, a
    /// pointer to a live buffer of at least the operand's static byte size (its
    /// dtype and shape); outputs must not alias inputs. The kernel's loads and
    /// stores stay within those sizes by construction (see `fused.rs`).
    pub(crate) fn call(&self, args: &[*mut u8], expected: usize) -> Result<i32, Diag> {
        if args.len() != expected {
            return Err(internal(format!(
                "kernel called with {} operands, compiled for {expected}",
                args.len()
            )));
        }
        // SAFETY: `code` is a function finalized by `Jit::finish` with the kernel
        // signature `extern "C" fn(*const *mut u8) -> i32`, and the `JITModule`
        // that owns it lives as long as the `Executable` holding this `Kernel`.
        // `args` has exactly the operand count the kernel was compiled for, and
        // every caller (`exec.rs`, `matmul.rs`) checks each buffer's dtype and
        // element count against the static type before calling; the kernel's
        // accesses are proven in bounds of those static sizes at compile time.
        // This is the only place generated code is entered.
        let status = unsafe {
            let f: extern "C" fn(*const *mut u8) -> i32 = std::mem::transmute(self.code);
            f(args.as_ptr())
        };
        Ok(status)
    }
}
