// A backend reading what clients send on their sockets (mqtt.egress on), with mqtt.js (docs/iot.md).
//   MQTT_URL=mqtt://localhost:1883 MQTT_USERNAME=mail-backend MQTT_PASSWORD=... node examples/iot/backend-egress.mjs
import mqtt from 'mqtt';

const client = mqtt.connect(process.env.MQTT_URL ?? 'mqtt://localhost:1883', {
  username: process.env.MQTT_USERNAME,
  password: process.env.MQTT_PASSWORD,
  protocolVersion: 4,
});
client.on('error', (err) => {
  console.error(`backend: ${err.message}`);
  process.exit(1);
});
client.on('connect', async () => {
  await client.subscribeAsync('wsmesh/egress/#', { qos: 1 });
  console.log('subscribed');
});
client.on('message', (topic, payload) => {
  // wsmesh/egress/<contextId>/<userId>/<connectionId>
  const [, , contextId, userId, connectionId] = topic.split('/');
  const frame = JSON.parse(payload.toString());
  // A raw socket's frame has "message"; a Socket.IO event has "event" and "args".
  console.log(JSON.stringify({ contextId: Number(contextId), userId: Number(userId), connectionId, ...frame }));
});
process.once('SIGTERM', () => client.end(false, {}, () => process.exit(0)));
