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
// no codec we take (PCMU 0, PCMA 8; RTP/AVP) gets 488 before the phone
// rings, without events. An INVITE without SDP gets our offer in the 200
// and the answer is read from the ACK.
//
// Dial: INVITE with our offer (PCMU, PCMA, telephone-event 101) to the
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
// offers a=sendonly / a=sendrecv. The other side's re-INVITE or UPDATE is
// answered per RFC 3264 (sendonly→recvonly, c=0.0.0.0 is hold). MuteCall
// sends silence frames. SendDTMF: RFC 4733 events (marker on the first,
// end packet three times), or SIP INFO (application/dtmf-relay) when the
// other side did not offer telephone-event; both are received as
// DTMFReceived. TransferCall: REFER (Refer-To, Referred-By); once accepted,
// BYE and CallEnded "transferred".
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
// # Not done
//
// No outbound proxy setting (requests go to the target or registrar
// directly, then follow Record-Route). An incoming REFER gets 501. Session timers, PRACK (100rel), SRTP, ICE and
// codecs other than G.711 are not supported; received audio is counted,
// not played.
package sipua
