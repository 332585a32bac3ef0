#!/usr/bin/env python3
"""An agent that lies (agent_protocol.h), for LyingAgent.* in two_host_test.cpp.

It speaks the protocol on fd 3 and answers every request "ok", with the
harness's own host's things as its data: the PID and start time of a process
there (ILK_LIE_PID, ILK_LIE_START), the id of a SysV segment there
(ILK_LIE_SHMID), a path there (ILK_LIE_PATH). Its contenders say they are
running with that process as their backend, and ask to journal an unmount of
"/", that path and that process. Whatever it says must stay data: the
harness may only pass it back to this agent, never act on its own host.
"""
import json
import os
import socket

pid = int(os.environ["ILK_LIE_PID"])
start = int(os.environ["ILK_LIE_START"])
shmid = int(os.environ["ILK_LIE_SHMID"])
path = os.environ["ILK_LIE_PATH"]
me = {"pid": pid, "start": start}

sock = socket.socket(fileno=3)
stream = sock.makefile("rwb", buffering=0)


def say(message):
    stream.write((json.dumps(message) + "\n").encode())


def contender_says(contender, msg):
    say({"event": "from", "contender": contender, "msg": msg})


# What each contender is told to journal, one claim per acknowledgement, then "running".
claims = [{"kind": "mount", "what": "/"}, {"kind": "mount", "what": path}, {"kind": "dir", "what": path},
          {"kind": "proc", "what": f"{pid} {start}"}, {"kind": "segment", "what": f"sysv-shm 1 {pid}"}]
told = {}
contenders = 0
killed = False  # its one process lives until the harness asks to SIGKILL it (again after each spawn)
for line in stream:
    try:
        req = json.loads(line)
    except ValueError:
        continue
    op = req.get("op")
    rid = req.get("id")
    if op == "to":
        c = req.get("contender")
        n = told.get(c, 0)
        told[c] = n + 1
        if n < len(claims):
            contender_says(c, {"journal": claims[n]})
        elif n == len(claims):
            contender_says(c, {"state": "running", "backends": [pid]})
        continue
    reply = {"id": rid, "ok": True}
    if op == "hello":
        reply.update(version=4, host=path, os="Linux", kernel="../" + path, pid=pid)
    elif op == "spawn":
        contenders += 1
        killed = False
        reply.update(contender=contenders, pid=pid, start=start, parent_pid=pid, parent_start=start)
    elif op == "alive":
        reply.update(alive=not killed)
    elif op == "signal":
        killed = killed or req.get("sig") == 9
    elif op == "children":
        reply.update(children=[{"pid": pid, "start": start, "own_pid": pid}])
    elif op == "plant_process":
        reply.update(pid=pid, start=start, handle=1)
    elif op == "planted_signal":
        reply.update(sig=9)
    elif op == "plant_segment":
        reply.update(shmid=shmid)
    elif op == "segment_intact":
        reply.update(intact=True)
    elif op == "segment_on_key":
        reply.update(found=True, shmid=shmid, creator=pid)
    elif op == "file":
        what = (req.get("request") or {}).get("do")
        if what == "read":
            reply.update(result={"found": True, "hex": path.encode().hex()}, found=True, hex=path.encode().hex())
        elif what == "list":
            reply.update(names=["../../" + path, path])
        elif what == "exists":
            reply.update(exists=True)
    elif op == "exec":
        reply.update(rc=0, out=path, err="")
    say(reply)
    if op == "bye":
        break
