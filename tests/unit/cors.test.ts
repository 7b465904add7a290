import { describe, expect, test } from "bun:test";
import { corsResponseHeaders, corsXml, matchCors, parseCorsXml, requestedHeaders, wildcardMatch, type CorsRule } from "../../src/s3/cors.ts";
import { renderXml } from "../../src/xml/index.ts";

const rule = (over: Partial<CorsRule>): CorsRule => ({ methods: ["GET"], origins: ["*"], headers: [], expose: [], ...over });

describe("parseCorsXml", () => {
  test("rules in order, every field; what it renders parses back the same", () => {
    const xml = `<CORSConfiguration>
      <CORSRule><ID>one</ID><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
        <AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>
      <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
    </CORSConfiguration>`;
    const rules = parseCorsXml(xml);
    expect(rules).toEqual([
      { id: "one", origins: ["https://a.example"], methods: ["PUT", "GET"], headers: ["*"], expose: ["ETag"], maxAge: 3000 },
      { origins: ["*"], methods: ["HEAD"], headers: [], expose: [] },
    ]);
    expect(parseCorsXml(renderXml("CORSConfiguration", corsXml(rules)))).toEqual(rules);
  });

  test("refusals: unknown method, two wildcards, missing origin or method, no rules", () => {
    const doc = (r: string) => `<CORSConfiguration><CORSRule>${r}</CORSRule></CORSConfiguration>`;
    const code = (xml: string) => {
      try {
        parseCorsXml(xml);
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message];
      }
      return null;
    };
    expect(code(doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"))).toEqual([
      "InvalidRequest",
      "Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
    ]);
    expect(code(doc("<AllowedOrigin>*.a.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"))?.[0]).toBe("InvalidRequest");
    expect(code(doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader>"))?.[0]).toBe("InvalidRequest");
    expect(code(doc("<AllowedMethod>GET</AllowedMethod>"))?.[0]).toBe("MalformedXML");
    expect(code(doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-*</ExposeHeader>"))?.[0]).toBe("InvalidRequest");
    expect(code(doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus>1</Bogus>"))?.[0]).toBe("MalformedXML");
    expect(code(doc("<AllowedOrigin>*</AllowedOrigin>"))?.[0]).toBe("MalformedXML");
    expect(code("<CORSConfiguration></CORSConfiguration>")?.[0]).toBe("MalformedXML");
  });
});

describe("matching", () => {
  test("one wildcard anywhere in the origin (the cases ceph's s3-tests check)", () => {
    expect(wildcardMatch("*suffix", "foo.suffix")).toBe(true);
    expect(wildcardMatch("*suffix", "foo.suffix.get")).toBe(false);
    expect(wildcardMatch("start*end", "startend")).toBe(true);
    expect(wildcardMatch("start*end", "start12end")).toBe(true);
    expect(wildcardMatch("start*end", "0start12end")).toBe(false);
    expect(wildcardMatch("start*end", "startend-")).toBe(false);
    expect(wildcardMatch("ab*ba", "aba")).toBe(false); // head and tail may not overlap
    expect(wildcardMatch("prefix*", "prefix")).toBe(true);
    expect(wildcardMatch("prefix*", "bla.prefix")).toBe(false);
    expect(wildcardMatch("https://a.example", "https://a.example")).toBe(true);
    expect(wildcardMatch("https://a.example", "https://A.example")).toBe(false);
  });

  test("the first rule that allows origin, method and every requested header", () => {
    const rules = [
      rule({ origins: ["*.put"], methods: ["PUT"], headers: ["x-amz-meta-*", "Content-Type"] }),
      rule({ origins: ["https://app.example"], methods: ["GET", "HEAD"] }),
    ];
    expect(matchCors(rules, "a.put", "PUT", ["content-type", "X-Amz-Meta-Color"])).toBe(rules[0]);
    expect(matchCors(rules, "a.put", "PUT", ["x-amz-date"])).toBeUndefined();
    expect(matchCors(rules, "a.put", "GET")).toBeUndefined();
    expect(matchCors(rules, "https://app.example", "HEAD")).toBe(rules[1]);
    expect(matchCors(rules, "https://other.example", "GET")).toBeUndefined();
  });

  test("response headers: the origin echoed (or *), credentials only for a named origin", () => {
    const named = corsResponseHeaders(rule({ origins: ["https://app.example"], methods: ["GET", "PUT"], expose: ["ETag", "x-amz-request-id"], maxAge: 60 }), "https://app.example", ["content-type"]);
    expect(named).toEqual({
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-methods": "GET, PUT",
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": "ETag, x-amz-request-id",
      "access-control-max-age": "60",
      "access-control-allow-headers": "content-type",
      vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    });
    const any = corsResponseHeaders(rule({}), "https://x.example");
    expect(any["access-control-allow-origin"]).toBe("*");
    expect(any["access-control-allow-credentials"]).toBeUndefined();
    expect(requestedHeaders(" content-type, x-amz-date ,,")).toEqual(["content-type", "x-amz-date"]);
  });
});
