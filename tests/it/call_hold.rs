//! A connected call's in-dialog requests through zentrale with sipp as both phones: the
//! caller puts the callee on hold and back (re-INVITEs whose SDP passes through unchanged and
//! whose answers come back), and a callee that rings reliably (RFC 3262) gets our PRACK and
//! still connects.

use crate::calls::{call_bert, last_call};

#[test]
fn the_caller_holds_and_resumes_and_both_phones_see_each_others_sdp() {
    let (called, phone, d) = call_bert("hold_uas.xml", "call_hold_uac.xml");
    assert!(
        phone,
        "the callee did not get both re-INVITEs with the caller's SDP (a=sendonly, a=sendrecv)"
    );
    assert!(
        called,
        "the caller did not get the callee's a=recvonly and a=sendrecv answers"
    );
    assert_eq!(last_call(&d)["outcome"], "answered");
}

#[test]
fn a_phone_that_rings_reliably_gets_our_prack_and_the_call_connects() {
    let (called, phone, d) = call_bert("prack_uas.xml", "call_uac.xml");
    assert!(
        phone,
        "the phone's reliable 180 got no PRACK, or the call did not end by BYE"
    );
    assert!(called, "the caller was not connected");
    assert_eq!(last_call(&d)["outcome"], "answered");
}
