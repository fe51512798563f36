//! The spandsp boundary: the only `unsafe` code in the crate.
//!
//! Each spandsp state lives behind a type that owns it as a `NonNull` and frees it on `Drop`.
//! Callbacks get a pointer to a boxed [`Context`] owned by the same type, so the context outlives
//! the state (fields drop after `Drop::drop` has freed the state) and its address never moves.
//! Nothing here reads a clock: the caller says how many 8 kHz samples of its session clock went by.
//!
//! Facts from spandsp 3.0's headers (vendored by `spandsp-sys`): `t38_terminal_send_timeout`
//! returns true once the front end is done; the packet handler's `count` is how often the same
//! packet (same sequence number) should go on the wire; `fax_rx`/`fax_tx` take and give 16-bit
//! linear samples at 8 kHz; the phase E handler gets the T.30 completion code.

#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use spandsp_sys as sys;

use super::{FaxError, Reception, T30Config};

/// One IFP packet spandsp wants on the wire, and how many times to send it (spandsp repeats
/// indicators; every copy carries the same UDPTL sequence number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingIfp {
    pub ifp: Vec<u8>,
    pub copies: u8,
}

/// The T.38 session parameters SDP negotiates (RFC 7345 / T.38 Annex D attribute names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct T38Params {
    /// T38FaxVersion (0 to 3).
    pub version: u8,
    /// T38FaxRateManagement: `localTCF` (true) or `transferredTCF`.
    pub local_tcf: bool,
    /// T38FaxFillBitRemoval.
    pub fill_bit_removal: bool,
    /// Largest IFP to send: the peer's T38FaxMaxDatagram less room for redundancy.
    pub max_ifp: u16,
}

impl Default for T38Params {
    fn default() -> Self {
        T38Params {
            version: 0,
            local_tcf: false,
            fill_bit_removal: false,
            max_ifp: 100,
        }
    }
}

/// What the callbacks write into; owned by the terminal through a [`ContextBox`] (stable address).
#[derive(Debug, Default)]
struct Context {
    t30: Option<NonNull<sys::t30_state_t>>,
    rx_file: Option<PathBuf>,
    out: VecDeque<OutgoingIfp>,
    finished: Option<Reception>,
}

/// Owns the [`Context`] through a raw pointer, so the pointer spandsp holds and the accesses from
/// Rust derive from one allocation without a `Box`'s uniqueness claim in between.
#[derive(Debug)]
struct ContextBox(NonNull<Context>);

impl ContextBox {
    fn new() -> Self {
        ContextBox(NonNull::from(Box::leak(Box::<Context>::default())))
    }

    /// The context; no callback runs while this borrow lives (spandsp only calls back from
    /// inside the FFI calls made with the state, never concurrently).
    fn get(&mut self) -> &mut Context {
        // SAFETY: allocated in `new`, freed only in `drop`; `&mut self` makes this the only
        // borrow on the Rust side.
        unsafe { self.0.as_mut() }
    }

    fn user_data(&self) -> *mut Context {
        self.0.as_ptr()
    }
}

impl Drop for ContextBox {
    fn drop(&mut self) {
        // SAFETY: allocated by `Box` in `new`, freed once; the state that pointed here is freed
        // before (the terminals free it in their own `drop`, which runs before their fields').
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// spandsp calls this for every IFP packet the T.38 terminal sends.
unsafe extern "C" fn on_ifp(
    _core: *mut sys::t38_core_state_t,
    user_data: *mut c_void,
    buf: *const u8,
    len: c_int,
    count: c_int,
) -> c_int {
    let Ok(len) = usize::try_from(len) else {
        return -1;
    };
    if user_data.is_null() || buf.is_null() {
        return -1;
    }
    // SAFETY: user_data is the `Context` box registered at init, alive as long as the state;
    // spandsp hands a buffer of `len` bytes valid for this call.
    let (ctx, data) = unsafe {
        (
            &mut *user_data.cast::<Context>(),
            std::slice::from_raw_parts(buf, len),
        )
    };
    let copies = u8::try_from(count.clamp(1, 8)).unwrap_or(1);
    ctx.out.push_back(OutgoingIfp {
        ifp: data.to_vec(),
        copies,
    });
    0
}

/// spandsp calls this once at the end of the T.30 session (phase E).
unsafe extern "C" fn on_phase_e(user_data: *mut c_void, completion_code: c_int) {
    if user_data.is_null() {
        return;
    }
    // SAFETY: as in `on_ifp`.
    let ctx = unsafe { &mut *user_data.cast::<Context>() };
    if let Some(t30) = ctx.t30 {
        // SAFETY: the T.30 state belongs to the terminal that owns this context and is alive.
        let mut result = unsafe { reception(t30, completion_code) };
        result.tiff = ctx.rx_file.clone();
        ctx.finished = Some(result);
    }
}

/// Ends the T.30 session of the terminal owning `ctx` (spandsp's `t30_terminate` runs phase E,
/// which closes the received file) and takes its result.
fn terminate(ctx: &mut ContextBox) -> Option<Reception> {
    if let Some(t30) = ctx.get().t30 {
        // SAFETY: the T.30 state lives inside the terminal owning this context; the phase E
        // callback it makes writes into the context, which no Rust borrow holds meanwhile.
        unsafe { sys::t30_terminate(t30.as_ptr()) };
    }
    ctx.get().finished.take()
}

/// Reads the statistics of a finished session.
unsafe fn reception(t30: NonNull<sys::t30_state_t>, code: c_int) -> Reception {
    let mut stats = std::mem::MaybeUninit::<sys::t30_stats_t>::zeroed();
    // SAFETY: t30 is alive (caller); stats is a valid out pointer; the strings spandsp returns
    // are NUL-terminated and static or inside the state.
    unsafe {
        sys::t30_get_transfer_statistics(t30.as_ptr(), stats.as_mut_ptr());
        let stats = stats.assume_init();
        Reception {
            completion_code: code,
            completion_text: c_string(sys::t30_completion_code_to_str(code)),
            pages: u32::try_from(stats.pages_rx.max(stats.pages_tx)).unwrap_or(0),
            remote_station_id: c_string(sys::t30_get_rx_ident(t30.as_ptr()))
                .trim()
                .to_string(),
            bit_rate: u32::try_from(stats.bit_rate).unwrap_or(0),
            ecm: stats.error_correcting_mode != 0,
            tiff: None,
        }
    }
}

/// Copies a C string spandsp returned; null is empty.
unsafe fn c_string(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the caller passes a NUL-terminated string from spandsp.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn c_path(path: &Path) -> Result<CString, FaxError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| FaxError::BadPath(path.to_path_buf()))
}

/// Applies the session's T.30 settings: our identity, ECM, the file to receive into or send.
unsafe fn configure_t30(
    t30: NonNull<sys::t30_state_t>,
    config: &T30Config,
    ctx: *mut Context,
) -> Result<(), FaxError> {
    let ident = CString::new(config.ident.as_bytes()).map_err(|_| FaxError::BadIdent)?;
    let rx = config.receive_into.as_deref().map(c_path).transpose()?;
    let tx = config.send_file.as_deref().map(c_path).transpose()?;
    let s = t30.as_ptr();
    // SAFETY: s is a live T.30 state; spandsp copies the strings; ctx outlives the state.
    unsafe {
        if sys::t30_set_tx_ident(s, ident.as_ptr()) != 0 {
            return Err(FaxError::BadIdent);
        }
        sys::t30_set_ecm_capability(s, config.ecm);
        sys::t30_set_supported_modems(
            s,
            (sys::T30_SUPPORT_V27TER | sys::T30_SUPPORT_V29 | sys::T30_SUPPORT_V17) as c_int,
        );
        // What the received file is written as: T.4 2-D or T.6 strips keep the line data as
        // sent, which the PDF embeds without re-encoding.
        sys::t30_set_supported_output_compressions(
            s,
            (sys::t4_image_compression_t_T4_COMPRESSION_T4_2D
                | sys::t4_image_compression_t_T4_COMPRESSION_T6) as c_int,
        );
        sys::t30_set_supported_compressions(
            s,
            (sys::t4_image_compression_t_T4_COMPRESSION_T4_1D
                | sys::t4_image_compression_t_T4_COMPRESSION_T4_2D
                | sys::t4_image_compression_t_T4_COMPRESSION_T6) as c_int,
        );
        if let Some(rx) = &rx {
            sys::t30_set_rx_file(s, rx.as_ptr(), -1);
        }
        if let Some(tx) = &tx {
            sys::t30_set_tx_file(s, tx.as_ptr(), -1, -1);
        }
        sys::t30_set_phase_e_handler(s, Some(on_phase_e), ctx.cast());
    }
    Ok(())
}

/// A T.38 terminal (receiving or sending), driven sans-IO.
#[derive(Debug)]
pub struct T38Terminal {
    state: NonNull<sys::t38_terminal_state_t>,
    ctx: ContextBox,
}

// SAFETY: the state is only touched through `&mut self`; spandsp keeps no thread-local or global
// state for a terminal, so moving it to another thread between calls is fine.
unsafe impl Send for T38Terminal {}

impl T38Terminal {
    /// A terminal that answers (`calling = false`, our receiving fax device) or calls.
    pub fn new(calling: bool, config: &T30Config) -> Result<Self, FaxError> {
        let ctx = ContextBox::new();
        let user = ctx.user_data();
        // SAFETY: init with a null state allocates one; the handler's user data is the boxed
        // context, which this value owns for as long as the state.
        let state = unsafe {
            sys::t38_terminal_init(std::ptr::null_mut(), calling, Some(on_ifp), user.cast())
        };
        let state = NonNull::new(state).ok_or(FaxError::Init("t38_terminal_init"))?;
        let mut terminal = T38Terminal { state, ctx };
        // SAFETY: the state is alive; its T.30 state lives inside it.
        let t30 = unsafe { sys::t38_terminal_get_t30_state(terminal.state.as_ptr()) };
        let t30 = NonNull::new(t30).ok_or(FaxError::Init("t38_terminal_get_t30_state"))?;
        terminal.ctx.get().t30 = Some(t30);
        terminal.ctx.get().rx_file = config.receive_into.clone();
        let user = terminal.ctx.user_data();
        // SAFETY: as above.
        unsafe {
            configure_t30(t30, config, user)?;
            let core = sys::t38_terminal_get_t38_core_state(terminal.state.as_ptr());
            if !core.is_null() {
                // Indicators and the last packet of each burst go out three times (same
                // sequence number; the far end drops the copies): UDPTL redundancy cannot bring
                // back a packet that no later packet follows. spandsp's default is once.
                for category in [
                    sys::t38_packet_categories_e_T38_PACKET_CATEGORY_INDICATOR,
                    sys::t38_packet_categories_e_T38_PACKET_CATEGORY_CONTROL_DATA_END,
                    sys::t38_packet_categories_e_T38_PACKET_CATEGORY_IMAGE_DATA_END,
                ] {
                    sys::t38_set_redundancy_control(core, category as c_int, 3);
                }
            }
        }
        Ok(terminal)
    }

    /// Applies what SDP agreed (T38FaxVersion, T38FaxRateManagement, T38FaxFillBitRemoval) and
    /// the largest IFP we may send (spandsp's default is 100 octets).
    pub fn set_params(&mut self, params: &T38Params) {
        // SAFETY: the state is alive; its T.38 core lives inside it.
        unsafe {
            let core = sys::t38_terminal_get_t38_core_state(self.state.as_ptr());
            if core.is_null() {
                return;
            }
            sys::t38_set_t38_version(core, c_int::from(params.version));
            // spandsp: 1 passes TCF across the link (transferredTCF), 2 makes it locally.
            sys::t38_set_data_rate_management_method(core, if params.local_tcf { 2 } else { 1 });
            sys::t38_set_max_datagram_size(core, c_int::from(params.max_ifp));
            sys::t38_terminal_set_fill_bit_removal(self.state.as_ptr(), params.fill_bit_removal);
        }
    }

    /// Hands one received IFP packet (in sequence order, with its UDPTL sequence number).
    pub fn handle_ifp(&mut self, ifp: &[u8], seq: u16) {
        let Ok(len) = c_int::try_from(ifp.len()) else {
            return;
        };
        // SAFETY: the state is alive; the buffer is valid for the call. A malformed IFP is
        // refused by spandsp with a negative return, which changes nothing.
        unsafe {
            let core = sys::t38_terminal_get_t38_core_state(self.state.as_ptr());
            if !core.is_null() {
                sys::t38_core_rx_ifp_packet(core, ifp.as_ptr(), len, seq);
            }
        }
    }

    /// Advances the terminal's clock by `samples` (160 per 20 ms); returns true once it is done.
    pub fn send_timeout(&mut self, samples: u32) -> bool {
        let samples = c_int::try_from(samples).unwrap_or(c_int::MAX);
        // SAFETY: the state is alive.
        unsafe { sys::t38_terminal_send_timeout(self.state.as_ptr(), samples) != 0 }
    }

    /// The next IFP packet to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<OutgoingIfp> {
        self.ctx.get().out.pop_front()
    }

    /// The session's result, once T.30 reached phase E (given once).
    pub fn poll_result(&mut self) -> Option<Reception> {
        self.ctx.get().finished.take()
    }

    /// The call is over (the caller hung up, or time ran out): T.30 ends where it is, with
    /// `T30_ERR_CALLDROPPED` unless the end of the procedure was already seen, and the result
    /// comes out (the TIFF holds the pages complete so far).
    pub fn terminate(&mut self) -> Option<Reception> {
        terminate(&mut self.ctx)
    }

    /// Pages received or sent so far (for progress; the result has the final count).
    pub fn pages_so_far(&mut self) -> u32 {
        self.ctx.get().t30.map_or(0, |t30| {
            // SAFETY: the T.30 state lives inside our live state.
            unsafe { reception(t30, 0) }.pages
        })
    }
}

impl Drop for T38Terminal {
    fn drop(&mut self) {
        // SAFETY: the state was allocated by init and is freed exactly once; the context box is
        // dropped after this, so no callback can see a freed context.
        unsafe {
            sys::t38_terminal_free(self.state.as_ptr());
        }
    }
}

/// A fax terminal over audio (G.711 after decoding): 8 kHz linear samples in and out.
#[derive(Debug)]
pub struct AudioTerminal {
    state: NonNull<sys::fax_state_t>,
    ctx: ContextBox,
}

// SAFETY: as for `T38Terminal`.
unsafe impl Send for AudioTerminal {}

impl AudioTerminal {
    /// A terminal that answers (`calling = false`: sends CED, DIS, CFR, MCF) or calls.
    pub fn new(calling: bool, config: &T30Config) -> Result<Self, FaxError> {
        // SAFETY: init with a null state allocates one.
        let state = unsafe { sys::fax_init(std::ptr::null_mut(), calling) };
        let state = NonNull::new(state).ok_or(FaxError::Init("fax_init"))?;
        let mut terminal = AudioTerminal {
            state,
            ctx: ContextBox::new(),
        };
        // SAFETY: the state is alive; its T.30 state lives inside it; the boxed context outlives
        // the state.
        unsafe {
            let t30 = sys::fax_get_t30_state(terminal.state.as_ptr());
            let t30 = NonNull::new(t30).ok_or(FaxError::Init("fax_get_t30_state"))?;
            terminal.ctx.get().t30 = Some(t30);
            terminal.ctx.get().rx_file = config.receive_into.clone();
            let user = terminal.ctx.user_data();
            configure_t30(t30, config, user)?;
            // Keep sending silence between signals so the RTP stream never stalls.
            sys::fax_set_transmit_on_idle(terminal.state.as_ptr(), 1);
        }
        Ok(terminal)
    }

    /// Feeds received samples (a 20 ms frame is 160).
    pub fn handle_audio(&mut self, samples: &[i16]) {
        // fax_rx takes a mutable pointer; hand it a copy on the stack rather than trust that it
        // never writes.
        let mut copy = [0i16; 160];
        for chunk in samples.chunks(copy.len()) {
            copy[..chunk.len()].copy_from_slice(chunk);
            // SAFETY: the state is alive; the buffer holds at least `chunk.len()` (≤ 160) samples.
            unsafe {
                sys::fax_rx(self.state.as_ptr(), copy.as_mut_ptr(), chunk.len() as c_int);
            }
        }
    }

    /// Tells the receiver a frame of `samples` went missing (packet loss).
    pub fn handle_missing(&mut self, samples: u32) {
        let len = c_int::try_from(samples).unwrap_or(c_int::MAX);
        // SAFETY: the state is alive.
        unsafe {
            sys::fax_rx_fillin(self.state.as_ptr(), len);
        }
    }

    /// Fills `out` with the next samples to send; returns how many were written (with transmit
    /// on idle always all of them).
    pub fn poll_audio(&mut self, out: &mut [i16]) -> usize {
        let Ok(len) = c_int::try_from(out.len()) else {
            return 0;
        };
        // SAFETY: the state is alive; `out` has room for `len` samples.
        let n = unsafe { sys::fax_tx(self.state.as_ptr(), out.as_mut_ptr(), len) };
        usize::try_from(n).unwrap_or(0).min(out.len())
    }

    /// The session's result, once T.30 reached phase E (given once).
    pub fn poll_result(&mut self) -> Option<Reception> {
        self.ctx.get().finished.take()
    }

    /// As [`T38Terminal::terminate`].
    pub fn terminate(&mut self) -> Option<Reception> {
        terminate(&mut self.ctx)
    }
}

impl Drop for AudioTerminal {
    fn drop(&mut self) {
        // SAFETY: allocated by init, freed once, before the context box.
        unsafe {
            sys::fax_free(self.state.as_ptr());
        }
    }
}

/// `MODEM_CONNECT_TONES_FAX_CNG` of spandsp's `modem_connect_tones.h` (enum value 1; the enum is
/// not in the generated bindings).
const MODEM_CONNECT_TONES_FAX_CNG: c_int = 1;

/// spandsp's detector of T.30's calling tone CNG (modem_connect_tones.c: 1100 Hz ±38 Hz
/// for 0.5 s ±15 %, then 3 s off): a call on audio that carries it comes from a fax machine.
#[derive(Debug)]
pub struct CngDetector {
    state: NonNull<sys::modem_connect_tones_rx_state_t>,
}

// SAFETY: the state is only touched through `&mut self`; spandsp keeps no thread affinity.
unsafe impl Send for CngDetector {}

impl CngDetector {
    pub fn new() -> Result<Self, FaxError> {
        // SAFETY: init with a null state allocates one; without a callback a detected tone is
        // kept for `modem_connect_tones_rx_get`.
        let state = unsafe {
            sys::modem_connect_tones_rx_init(
                std::ptr::null_mut(),
                MODEM_CONNECT_TONES_FAX_CNG,
                None,
                std::ptr::null_mut(),
            )
        };
        let state = NonNull::new(state).ok_or(FaxError::Init("modem_connect_tones_rx_init"))?;
        Ok(CngDetector { state })
    }

    /// Feeds received samples; true once CNG has been heard (reported once per tone).
    pub fn handle_audio(&mut self, samples: &[i16]) -> bool {
        let Ok(len) = c_int::try_from(samples.len()) else {
            return false;
        };
        // SAFETY: the state is alive; the detector only reads `len` samples of the buffer.
        unsafe {
            sys::modem_connect_tones_rx(self.state.as_ptr(), samples.as_ptr(), len);
            sys::modem_connect_tones_rx_get(self.state.as_ptr()) == MODEM_CONNECT_TONES_FAX_CNG
        }
    }
}

impl Drop for CngDetector {
    fn drop(&mut self) {
        // SAFETY: allocated by init, freed once.
        unsafe {
            sys::modem_connect_tones_rx_free(self.state.as_ptr());
        }
    }
}
