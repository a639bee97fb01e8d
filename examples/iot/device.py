# A device publishing to a user's sockets with Python's paho-mqtt (docs/iot.md); paho-mqtt 1.6 or 2.x.
#   MQTT_HOST=localhost MQTT_PORT=1883 MQTT_USERNAME=demo-thermostat MQTT_PASSWORD=thermostat python3 examples/iot/device.py
import os
import sys

import paho.mqtt.client as mqtt

host = os.environ.get("MQTT_HOST", "localhost")
port = int(os.environ.get("MQTT_PORT", "1883"))

try:  # paho-mqtt 2.x asks which callback API the code is written for
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
except AttributeError:  # paho-mqtt 1.x
    client = mqtt.Client(protocol=mqtt.MQTTv311)
client.username_pw_set(os.environ.get("MQTT_USERNAME", "demo-thermostat"), os.environ.get("MQTT_PASSWORD", "thermostat"))
client.connect(host, port)
client.loop_start()
# <cluster.name>/ingress/<contextId>/<userId>/<path>: alice's sockets on /ws/demo only.
info = client.publish("wsmesh/ingress/1/3/ws/demo", "living room: 21.5 °C (paho)", qos=1)
info.wait_for_publish(timeout=5)
client.loop_stop()
client.disconnect()
if not info.is_published():
    sys.exit("device: the broker did not acknowledge the message")
print("published")
