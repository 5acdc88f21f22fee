// A TCP relay on 127.0.0.1 in front of a backend that can go silent, as a peer does when its host
// dies or the network drops its packets: no FIN, no RST, just no more bytes either way.

import type { AddressInfo } from "node:net";
import net from "node:net";

export interface TcpRelay {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** From now on, bytes are dropped both ways and new connections hang; nothing is closed. */
  freeze(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpRelay> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    track(client);
    if (frozen) return;
    const backend = net.connect(targetPort, targetHost);
    track(backend);
    const relay = (from: net.Socket, to: net.Socket) => {
      from.on("data", (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.once("close", () => {
        if (!frozen) to.destroy();
      });
    };
    relay(client, backend);
    relay(backend, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => {
      frozen = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
