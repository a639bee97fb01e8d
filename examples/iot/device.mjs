// A device publishing to a user's sockets with mqtt.js (docs/iot.md).
//   MQTT_URL=mqtt://localhost:1883 MQTT_USERNAME=demo-thermostat MQTT_PASSWORD=thermostat node examples/iot/device.mjs
import mqtt from 'mqtt';

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883';
const client = mqtt.connect(url, {
  username: process.env.MQTT_USERNAME ?? 'demo-thermostat',
  password: process.env.MQTT_PASSWORD ?? 'thermostat',
  protocolVersion: 4, // MQTT 3.1.1: what all three brokers speak
  reconnectPeriod: 0,
});
client.on('error', (err) => {
  console.error(`device: ${err.message}`);
  process.exit(1);
});
client.on('connect', async () => {
  // <cluster.name>/ingress/<contextId>/<userId>[/<path>]: alice (1, 3), every socket of hers.
  await client.publishAsync('wsmesh/ingress/1/3', 'living room: 21.5 °C (mqtt.js)', { qos: 1 });
  console.log('published');
  await client.endAsync();
});
