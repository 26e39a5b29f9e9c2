/**
 * Protocol v2 between our own programs (docs/PROTOCOL.md): frames, the HMAC challenge-response,
 * and the stream multiplexer with per-stream flow control that both sides run over one TLS link.
 */
package rtunnel.common.v2;
