"""The tunnel registry in Redis (the default cache's server, under its key prefix).

Keys:
- ``tunnel:node:<node id>``: the lease, a string (JSON: the node's URL and its
  last renewal) with the lease's TTL. Renewing it is one script per node.
- ``tunnel:device:<device id>``: the entry, a hash (``device_id``, ``node_id``,
  ``connection_id``, ``connected_at``) without a TTL: valid while the lease its
  ``node_id`` names exists.
- ``tunnel:node:<node id>:devices``: the set of device ids registered under a
  node, so a sweeper can find a dead node's entries.
- ``tunnel:nodes``: a sorted set, node id -> when its lease expires (epoch
  seconds), for the sweeper; ``tunnel:node-renewals``: a hash, node id -> its last
  renewal, for a dead node's devices' ``last_seen_at``.

Every compare-and-act is one Lua script (atomic on the server). The scripts
name keys they build from their arguments only in the sweep and the lookup (an
entry's lease, from its node id); the registry assumes one Redis server (not a
cluster).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from devices.tunnel_registry import DeadNode, NodeLease, TunnelRegistration

_DEVICE = "tunnel:device:{}"
_LEASE = "tunnel:node:{}"
_NODE_DEVICES = "tunnel:node:{}:devices"
_NODES = "tunnel:nodes"
_RENEWALS = "tunnel:node-renewals"
_SWEEP_LOCK = "tunnel:sweep:{}"
_CHUNK = 500
_FIELDS = ("device_id", "node_id", "connection_id", "connected_at")

# KEYS lease, nodes, renewals; ARGV node id, value, ttl, now (epoch), expiry (epoch).
# Renew only a lease that still exists.
_RENEW = """
if redis.call('SET', KEYS[1], ARGV[2], 'XX', 'EX', ARGV[3]) then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
  return 1
end
return 0
"""
# KEYS entry, node set; ARGV device id, node id, connection id, now.
# Written back if absent, or if still this connection's (then only its node set).
_RECLAIM = """
local holder = redis.call('HGET', KEYS[1], 'connection_id')
if holder and holder ~= ARGV[3] then return 0 end
if not holder then
  redis.call('HSET', KEYS[1], 'device_id', ARGV[1], 'node_id', ARGV[2],
             'connection_id', ARGV[3], 'connected_at', ARGV[4])
end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
# KEYS entry, node set; ARGV device id, node id, connection id. Compare and delete.
_UNREGISTER = """
local found = redis.call('HMGET', KEYS[1], 'connection_id', 'node_id')
if found[1] == ARGV[3] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
if found[2] ~= ARGV[2] then redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
"""
# KEYS lease, node set, entries...; ARGV node id, device ids (aligned with the entries).
# Only while the lease is absent (-1: the node came back); an entry another node took
# stays. Answers the device ids whose entries went.
_SWEEP = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local gone = {}
for i = 3, #KEYS do
  if redis.call('HGET', KEYS[i], 'node_id') == ARGV[1] then
    redis.call('DEL', KEYS[i])
    gone[#gone + 1] = ARGV[i - 1]
  end
  redis.call('SREM', KEYS[2], ARGV[i - 1])
end
return gone
"""
# KEYS lease, node set, nodes, renewals; ARGV node id. The node's bookkeeping, once empty.
_FORGET = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
"""

# KEYS entries; ARGV the lease key around a node id (prefix, suffix). For each entry:
# its fields (HGETALL's list) and its node's lease (false when none, or no node named).
_LOOKUP = """
local found = {}
for i = 1, #KEYS do
  local entry = redis.call('HGETALL', KEYS[i])
  local lease = false
  for j = 1, #entry, 2 do
    if entry[j] == 'node_id' then
      lease = redis.call('GET', ARGV[1] .. entry[j + 1] .. ARGV[2])
    end
  end
  found[i] = {entry, lease}
end
return found
"""

_scripts: dict = {}


class RedisStore:
    def __init__(self) -> None:
        from django.core.cache import cache
        from django_redis import get_redis_connection

        self._cache = cache
        self._redis = get_redis_connection("default")

    def _key(self, template: str, value: str = "") -> str:
        return self._cache.make_key(template.format(value))

    def _script(self, source: str):
        # One registered script per source and client: EVALSHA, loaded on first use.
        key = (id(self._redis), source)
        if key not in _scripts:
            _scripts[key] = self._redis.register_script(source)
        return _scripts[key]

    # The lease ------------------------------------------------------------------

    def _lease_value(self, lease: NodeLease, now: datetime) -> str:
        return json.dumps({"url": lease.node_url, "renewed_at": now.isoformat()})

    def lease_acquire(self, lease: NodeLease, ttl: int, now: datetime) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(_LEASE, lease.node_id), self._lease_value(lease, now), ex=ttl)
            pipe.zadd(self._key(_NODES), {lease.node_id: now.timestamp() + ttl})
            pipe.hset(self._key(_RENEWALS), lease.node_id, now.timestamp())
            pipe.execute()

    def lease_renew(self, lease: NodeLease, ttl: int, now: datetime) -> bool:
        keys = [self._key(_LEASE, lease.node_id), self._key(_NODES), self._key(_RENEWALS)]
        value = self._lease_value(lease, now)
        args = [lease.node_id, value, ttl, now.timestamp(), now.timestamp() + ttl]
        return bool(self._script(_RENEW)(keys=keys, args=args))

    def lease_release(self, lease: NodeLease) -> list[str]:
        self._redis.delete(self._key(_LEASE, lease.node_id))
        return self._sweep_node(lease.node_id) or []

    # Entries --------------------------------------------------------------------

    def register_many(self, lease: NodeLease, connections, now: datetime) -> None:
        node_set, stamp = self._key(_NODE_DEVICES, lease.node_id), now.isoformat()
        for start in range(0, len(connections), _CHUNK):
            # One round trip for the chunk; MULTI so an entry never lacks its node set.
            with self._redis.pipeline(transaction=True) as pipe:
                for device_id, connection_id in connections[start : start + _CHUNK]:
                    entry = {
                        "device_id": device_id,
                        "node_id": lease.node_id,
                        "connection_id": connection_id,
                        "connected_at": stamp,
                    }
                    pipe.hset(self._key(_DEVICE, device_id), mapping=entry)
                    pipe.sadd(node_set, device_id)
                pipe.execute()

    def reclaim_many(self, lease: NodeLease, connections, now: datetime) -> list[str]:
        script, node_set = self._script(_RECLAIM), self._key(_NODE_DEVICES, lease.node_id)
        lost = []
        for device_id, connection_id in connections:
            keys = [self._key(_DEVICE, device_id), node_set]
            if not script(
                keys=keys, args=[device_id, lease.node_id, connection_id, now.isoformat()]
            ):
                lost.append(device_id)
        return lost

    def unregister_many(self, lease: NodeLease | None, connections) -> None:
        script = self._script(_UNREGISTER)
        node_id = lease.node_id if lease else ""
        with self._redis.pipeline(transaction=False) as pipe:
            for device_id, connection_id in connections:
                keys = [self._key(_DEVICE, device_id), self._key(_NODE_DEVICES, node_id)]
                script(keys=keys, args=[device_id, node_id, connection_id], client=pipe)
            pipe.execute()

    def lookup_many(self, device_ids: list[str], now: datetime) -> dict[str, TunnelRegistration]:
        # One round trip: the entries and their nodes' leases read together on the server
        # (a relayed request asks this for one device on its way).
        prefix, suffix = self._key(_LEASE, "\x00").split("\x00")
        answers = []
        for start in range(0, len(device_ids), _CHUNK):  # a page of many: Redis never long held
            keys = [
                self._key(_DEVICE, device_id) for device_id in device_ids[start : start + _CHUNK]
            ]
            answers += self._script(_LOOKUP)(keys=keys, args=[prefix, suffix])
        found = {}
        for device_id, (raw, lease_value) in zip(device_ids, answers, strict=True):
            fields = {
                raw[index].decode(): raw[index + 1].decode() for index in range(0, len(raw), 2)
            }
            if not all(name in fields for name in _FIELDS):
                continue  # absent, or half-written by something else
            if not lease_value:
                continue  # its node's lease ran out: the node is gone
            lease = json.loads(lease_value)
            connected_at = datetime.fromisoformat(fields["connected_at"])
            found[device_id] = TunnelRegistration(
                device_id=fields["device_id"],
                node_url=lease["url"],
                connection_id=fields["connection_id"],
                connected_at=connected_at,
                refreshed_at=max(connected_at, datetime.fromisoformat(lease["renewed_at"])),
                node_id=fields["node_id"],
            )
        return found

    # Dead nodes -------------------------------------------------------------------

    def sweep_dead_nodes(self, now: datetime) -> list[DeadNode]:
        expired = self._redis.zrangebyscore(self._key(_NODES), "-inf", now.timestamp())
        dead = []
        for raw_id in expired:
            node_id = raw_id.decode()
            # One sweeper per dead node at a time; the others skip it.
            lock = self._key(_SWEEP_LOCK, node_id)
            if not self._redis.set(lock, "1", nx=True, ex=60):
                continue
            try:
                renewed = self._redis.hget(self._key(_RENEWALS), node_id)
                device_ids = self._sweep_node(node_id)
            finally:
                self._redis.delete(lock)
            if device_ids is not None:
                last = datetime.fromtimestamp(float(renewed), UTC) if renewed else None
                dead.append(DeadNode(node_id=node_id, last_renewed_at=last, device_ids=device_ids))
        return dead

    def _sweep_node(self, node_id: str) -> list[str] | None:
        """Delete a lease-less node's entries; None when the node turned out alive."""
        lease_key, node_set = self._key(_LEASE, node_id), self._key(_NODE_DEVICES, node_id)
        members = sorted(member.decode() for member in self._redis.smembers(node_set))
        gone = []
        for start in range(0, len(members), _CHUNK):
            chunk = members[start : start + _CHUNK]
            keys = [lease_key, node_set, *(self._key(_DEVICE, d) for d in chunk)]
            result = self._script(_SWEEP)(keys=keys, args=[node_id, *chunk])
            if result == -1:
                return None
            gone += [value.decode() for value in result]
        keys = [lease_key, node_set, self._key(_NODES), self._key(_RENEWALS)]
        self._script(_FORGET)(keys=keys, args=[node_id])
        return gone
