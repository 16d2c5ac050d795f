// The network connectors (LANGUAGE.md §11), registered by node.ts (registerNetwork) and loaded on
// a program's first use of one. Each connector's module, and its client library, is imported
// only when a program uses that connector.

import type { MessageSink, NetInput, NetSinkOpening, NetSourceOpening, NetworkConnectors } from "../run/network.js";

export const network: NetworkConnectors = {
  async openSource(o: NetSourceOpening): Promise<NetInput> {
    switch (o.spec.kind) {
      case "nats":
        return (await import("./nats.js")).openNatsSource(o);
      case "redis":
        return (await import("./redis.js")).openRedisSource(o);
      case "http":
        return (await import("./http.js")).openHttpSource(o);
      case "mqtt":
        return (await import("./mqtt.js")).openMqttSource(o);
      case "websocket":
        return (await import("./websocket.js")).openWebSocketSource(o);
      case "kafka":
        return (await import("./kafka.js")).openKafkaSource(o);
    }
  },
  async openSink(o: NetSinkOpening): Promise<MessageSink> {
    switch (o.spec.kind) {
      case "nats":
        return (await import("./nats.js")).openNatsSink(o);
      case "redis":
        return (await import("./redis.js")).openRedisSink(o);
      case "postgres":
        return (await import("./postgres.js")).openPostgresSink(o);
      case "http":
        return (await import("./http.js")).openHttpSink(o);
      case "kafka":
        return (await import("./kafka.js")).openKafkaSink(o);
    }
  },
};
