import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import type { ReceivedPayload } from './interfaces';
import { SSE_RETRY_FRAME, createLegacyBroadcaster, sseDataFrame } from './legacyBroadcaster';

/** Just enough of an express Response: headers, writes (with a chosen return value), end, close. */
class FakeResponse extends EventEmitter {
  headers: Record<string, string> = {};
  written: string[] = [];
  ended = false;
  flushed = false;
  writeReturns = true;
  writableLength = 0;
  setHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value;
  }
  flushHeaders() {
    this.flushed = true;
  }
  write(chunk: string) {
    this.written.push(chunk);
    if (!this.writeReturns) this.writableLength += chunk.length;
    return this.writeReturns;
  }
  end() {
    this.ended = true;
  }
}

const asRes = (f: FakeResponse) => f as unknown as Response;
const payload: ReceivedPayload = { vehicle_id: 'car-1', timestamp: 1, serverReceiveTime: 2 };

describe('legacy broadcaster', () => {
  it('sets the SSE headers and writes the retry frame first', () => {
    const b = createLegacyBroadcaster();
    const res = new FakeResponse();
    b.addClient(asRes(res));
    expect(res.headers).toEqual({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    expect(res.flushed).toBe(true);
    expect(res.written).toEqual(['retry: 10000\n\n']);
    expect(SSE_RETRY_FRAME).toBe('retry: 10000\n\n');
  });

  it('writes the same data frame to every client', () => {
    const b = createLegacyBroadcaster();
    const a = new FakeResponse();
    const c = new FakeResponse();
    b.addClient(asRes(a));
    b.addClient(asRes(c));
    b.broadcast(payload);
    const frame = 'data: {"vehicle_id":"car-1","timestamp":1,"serverReceiveTime":2}\n\n';
    expect(sseDataFrame(payload)).toBe(frame);
    expect(a.written[1]).toBe(frame);
    expect(c.written[1]).toBe(frame);
  });

  it('keeps writing to a back-pressured client and counts it', () => {
    const b = createLegacyBroadcaster();
    const slow = new FakeResponse();
    slow.writeReturns = false;
    b.addClient(asRes(slow));
    for (let i = 0; i < 3; i++) b.broadcast(payload);
    expect(slow.written).toHaveLength(4); // retry frame + 3 events, none skipped
    const text = b.metrics!();
    expect(text).toContain('telemetry_sse_backpressured_writes_total 3\n');
    expect(text).toContain(`telemetry_sse_buffered_bytes ${slow.writableLength}\n`);
    expect(text).toContain('telemetry_sse_events_total 3\n');
  });

  it('forgets a client when its connection closes', () => {
    const b = createLegacyBroadcaster();
    const res = new FakeResponse();
    b.addClient(asRes(res));
    expect(b.clientCount()).toBe(1);
    res.emit('close');
    expect(b.clientCount()).toBe(0);
    b.broadcast(payload);
    expect(res.written).toHaveLength(1);
  });

  it('closeAll ends every client and empties the list', () => {
    const b = createLegacyBroadcaster();
    const clients = [new FakeResponse(), new FakeResponse()];
    for (const c of clients) b.addClient(asRes(c));
    b.closeAll();
    expect(clients.every((c) => c.ended)).toBe(true);
    expect(b.clientCount()).toBe(0);
  });
});
