// Package sipua is the phone's SIP and RTP adapter. It turns SIP into
// firmware events and carries out the core's SIP effects; nothing outside
// it sees a *sip.Request.
//
// # Structure
//
// Each call is owned by one goroutine (call.run) that reads the core's
// effects, the requests sipgo hands over and its own transactions'
// responses from channels, so a call's state is never shared. For an
// incoming call that goroutine is sipgo's INVITE handler itself: it stays
// until the call ends. Events leave through an unbounded queue, in order;
// Do never blocks. Dialogs are our own (dialog.go) on sipgo's raw
// transactions: sipgo has no re-INVITE, REFER or CANCEL-after-1xx helpers.
//
// # Behaviour
//
// Incoming INVITE: 100 at once, then CallOffered; the handler waits for
// Ring (180), Answer (200 with the SDP answer, media on, 2xx resent over
// UDP until the ACK; no ACK in 64·T1: BYE and CallEnded "no ACK"), Reject,
// Redirect (3xx, Contact: <Target>), Hangup (603 Decline), the caller's
// CANCEL (sipgo sends 200 and 487; we send CallCanceled with the Reason
// header) or a BYE on the early dialog (CallCanceled "bye"). An offer with
// no codec the called identity takes (codec_priority_listN: PCMU, PCMA,
// telephone-event; RTP/AVP) gets 488 before the phone
// rings, without events. An INVITE without SDP gets our offer in the 200
// and the answer is read from the ACK.
//
// Dial: INVITE with our offer (the identity's codec_priority_list) to the
// target, leaving from the listening socket; CallSent once sent. Each 1xx
// above 100 is a CallProgressed as it comes (sipgo may reorder or drop
// them, #306); a 183 with SDP starts early media. 2xx: ACK (again for
// each retransmitted 2xx), media, CallAnswered. 3xx with Contact:
// CallRedirected; other finals: CallFailed{Status, Reason}. No final
// answer: CallFailed 408 (timeout) or 0 (transport).
//
// Hangup: BYE on a confirmed dialog (after the ACK if it is not in yet);
// on a pending outgoing INVITE, CANCEL once a provisional answer came (RFC
// 3261 §9.1), and the INVITE's 487 becomes CallFailed{487}. A 2xx racing
// the CANCEL is ACKed and BYEd, and also reported as CallFailed{487}. We
// send no event for ends the core asked for.
//
// HoldCall/ResumeCall: sending stops/starts at once, then a re-INVITE
// offers a=sendonly / a=sendrecv. A re-INVITE (or UPDATE) of ours that
// gets 408, 481 or no final answer within Config.TransactionTimeout ends
// the dialog (RFC 3261 §12.2.1.2, §14.1): BYE and CallEnded. The other side's re-INVITE or UPDATE is
// answered per RFC 3264 (sendonly→recvonly, c=0.0.0.0 is hold). MuteCall
// sends silence frames. SendDTMF: RFC 4733 events (marker on the first,
// end packet three times), or SIP INFO (application/dtmf-relay) when the
// other side did not offer telephone-event; both are received as
// DTMFReceived. TransferCall: REFER (Refer-To, Referred-By); once accepted,
// BYE and CallEnded "transferred".
//
// Transfer (refer.go, replaces.go): AttendedTransfer sends the REFER to the
// held call with Refer-To <consult target?Replaces=...> and reads the
// NOTIFYs' message/sipfrag (or the transferee's BYE) into
// AttendedTransferDone. An incoming REFER with one sip/sips Refer-To gets
// 202, a NOTIFY "100 Trying" and CallReferred; ReferProgress sends the
// final NOTIFY (others: 400, 403 for a non-SIP URI, 491). Dial.Replaces
// puts a Replaces header on the INVITE; an incoming INVITE whose Replaces
// names one of our dialogs is CallOffered.Replaces, naming none 481.
// Conference/SplitConference (conference.go) join two calls' media with a
// media.Mixer.
//
// Calls whose other side vanished end (the core's CallTimers, from
// timer_support, session_timer and rtp_timeout): RFC 4028 session timers
// (Supported: timer, Session-Expires, Min-SE; the refresher refreshes by
// UPDATE when the other side allows it, else by re-INVITE, at half the
// interval; a 422 raises the interval once; a session nobody refreshed
// ends with BYE and CallEnded "session expired" max(32 s, interval/3)
// before it expires), and RTP inactivity (no packet received for
// RTPTimeout while confirmed, not on hold and the other side's SDP says
// it sends: BYE and CallEnded "no RTP received for N s").
//
// Close (the context of Start ending) ends every call so that the other
// side hears it: BYE on a confirmed call, CANCEL on a pending INVITE (ACK
// and BYE on a 2xx that crosses it), 480 to a ringing call; each call
// waits up to 2 s for the answers before the transport closes.
//
// Network text (display names, URIs, header values, reasons) is made inert
// before it reaches an event: control characters and bidi overrides go,
// lengths are capped. CallOffered.Headers holds only what $sip_header()
// may name, with canonical names ("X-Custom", "P-Asserted-Identity").
//
// Register (not an effect: the device calls it with an identity's user_*
// settings) keeps a binding at the registrar: REGISTER, one digest answer
// per challenge, refresh at half the granted time, Registered on success;
// on failure RegistrationFailed and a pause of 30 s doubling to 10 min, so
// a registrar refusing the password never makes the phone loop. The same
// credentials answer one 401/407 to an INVITE dialed for that identity.
//
// # Transport and bad input
//
// A response goes back over the transport its request came on, whatever
// its size (sipgo refused UDP messages over 1300 bytes: we raise its
// sip.UDPMTUSize). Our own large requests are not moved to TCP (RFC 3261
// §18.1.1) but sent in one fragmented datagram. An INVITE retransmission
// that finds no transaction is dropped while its call lasts and 64·T1
// after: never a second call. SIP over TCP: a failed accept() (EMFILE) is
// logged and retried on the same socket, 10 ms doubling to 1 s;
// connections others open are capped (Config.TCPMaxConns, 256;
// TCPMaxConnsPerIP, 64) and closed after TCPIdleTimeout (64·T1) without
// traffic, unless a call that came in over one is still going.
//
// Requests are checked before the phone sees them (RFC 3261 §8.2): SIP
// version (505), a method we do not know outside a dialog (501), a
// singular header twice, a CSeq method or Content-Length that does not
// match (400), a Request-URI scheme other than sip, sips, tel (416),
// Require (420 with Unsupported), an INVITE body that is not SDP (415
// with Accept), an Accept without SDP (406). A UDP datagram whose request
// line or Content-Length sipgo would drop without a word gets a stateless
// 400 (416 for the scheme).
//
// RFC 4475 (table in torture_test.go): what we cannot answer right is
// decided inside sipgo first. wsinv: its parser keeps the LWS of
// "tag = x" in the parameter name, so with a pre-RFC 3261 branch its
// transaction key finds no From tag and it answers 400 (a UAS owes 481);
// inv2543 (no From tag): the same 400, not the call RFC 4475 wants.
// badinv01, quotbal, scalar02, badaspec and sipgo's cut copy of baddn are
// dropped by its parser unanswered; over TCP a parse error closes the
// connection (also for ltgtruri, lwsruri, lwsstart, trws, novelsc).
// sipgo tracks RFC 4475 in its issue #57.
//
// # Not done
//
// No outbound proxy setting (requests go to the target or registrar
// directly, then follow Record-Route). We send
// no 422 as UAS (a short session interval asked for is taken as is).
// PRACK (100rel), SRTP, ICE and codecs other than G.711 are not
// supported. Received audio goes through a jitter buffer to the recording
// and the playout hook; there is no loudspeaker (docs/media.md).
package sipua
