#!/bin/sh
# InfluxDB 2.x serves InfluxQL (/query) only through a DBRP mapping.
set -e
bucket_id=$(influx bucket find --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | cut -f1)
influx v1 dbrp create --db "$DOCKER_INFLUXDB_INIT_BUCKET" --rp autogen --bucket-id "$bucket_id" --default
