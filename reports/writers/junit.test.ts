import { describe, expect, it } from 'vitest';
import { renderJUnit } from './junit';
import { HOSTILE, sampleReport } from './testing/sampleReport';
import { xmlProblems } from './testing/xmlWellFormed';

describe('renderJUnit', () => {
  it('is well-formed XML with one testcase per threshold and failures for breaches', () => {
    const xml = renderJUnit(sampleReport());
    expect(xmlProblems(xml)).toEqual([]);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('<testsuite name="steady-10hz &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quotes&apos; ]]&gt; bell|pipe" tests="3" failures="1" errors="0"');
    expect(xml).toContain('name="latency_p99_ms &lt; 200" time="0"/>');
    expect(xml).toContain('<failure message="loss_acknowledged_not_stored = 105, required == 0" type="threshold">');
    expect(xml).toContain('<property name="exitCode" value="99"/>');
    // The control character in the hostile text is dropped, not emitted.
    expect(xml).not.toContain('\u0001');
    expect(xml).not.toContain(HOSTILE);
  });

  it('reports an infrastructure failure as an error testcase', () => {
    const r = sampleReport({ infraErrors: ['InfluxDB did not answer /ping within 30 s <&>'] }, []);
    expect(r.exitCode).toBe(2);
    const xml = renderJUnit(r);
    expect(xmlProblems(xml)).toEqual([]);
    expect(xml).toContain('tests="1" failures="0" errors="1"');
    expect(xml).toContain('<error message="InfluxDB did not answer /ping within 30 s &lt;&amp;&gt;" type="infrastructure">');
  });

  it('the checker itself catches malformed XML', () => {
    expect(xmlProblems('<a><b></a>')).not.toEqual([]);
    expect(xmlProblems('<a x="1 & 2"/>')).not.toEqual([]);
    expect(xmlProblems('<a>1 < 2</a>')).not.toEqual([]);
    expect(xmlProblems('<a/><b/>')).not.toEqual([]);
    expect(xmlProblems('<a x=1/>')).not.toEqual([]);
    expect(xmlProblems('<a>\u0001</a>')).not.toEqual([]);
    expect(xmlProblems('<?xml version="1.0"?><a b="&amp;">&lt;&#38;&#x26;</a>')).toEqual([]);
  });
});
