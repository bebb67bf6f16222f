// Message sizes on the wire, read off a WebSocket client's socket (bench/run.mjs's stream figures).

/**
 * Pushes onto `sizes` the wire bytes of each message (opcodes text/binary and their continuations,
 * through FIN) that arrives on `socket`: frame headers plus payloads as sent (compressed, with
 * permessage-deflate). Control frames (ping, pong, close) count in no message. The listener is on
 * the socket before ws's own, so it sees every byte after the HTTP upgrade, in order.
 */
export function trackFrames(socket, sizes) {
  let header = [];
  let skip = 0;
  let fin = false;
  let data = false;
  let message = 0;
  const headerLength = () => {
    if (header.length < 2) return 2;
    const len7 = header[1] & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (header[1] & 0x80 ? 4 : 0);
  };
  const frameDone = () => {
    if (data && fin) {
      sizes.push(message);
      message = 0;
    }
  };
  socket.on('data', (chunk) => {
    for (let i = 0; i < chunk.length; ) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        if (data) message += n;
        if (skip === 0) frameDone();
        continue;
      }
      header.push(chunk[i++]);
      if (header.length < headerLength()) continue;
      fin = (header[0] & 0x80) !== 0;
      data = (header[0] & 0x0f) < 8;
      const len7 = header[1] & 0x7f;
      let len = len7;
      if (len7 === 126) len = header[2] * 256 + header[3];
      else if (len7 === 127) {
        len = 0;
        for (let k = 2; k < 10; k++) len = len * 256 + header[k];
      }
      if (data) message += header.length;
      header = [];
      skip = len;
      if (skip === 0) frameDone();
    }
  });
}
