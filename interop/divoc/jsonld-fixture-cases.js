'use strict';
// Input documents for the JSON-LD canonization fixture corpus.
//
// Each case has a `name` (the fixture file stem), a `description`, and exactly one
// input source:
// - `doc` is a JS object, written as 2-space indented JSON.
// - `text` is the JSON text itself. It is used for numbers JSON.stringify cannot
//   reproduce (-0, 12345678901234567890, 1.0, exponent spellings).
// - `fromFile` means the fixture NAME.json already in the output folder is the input.
//   The DIVOC development certificates are copied there by hand.
// - `proofOf` names a fromFile case. The input is that case's proof without jws and
//   with the security v2 context added (its proof options).
// The expected output of every case is the canonization of the parsed JSON with its
// top-level `proof` member removed.

const CREDENTIALS_V1 = 'https://www.w3.org/2018/credentials/v1';
const COWIN_V1 = 'https://cowin.gov.in/credentials/vaccination/v1';
const COWIN_V2 = 'https://cowin.gov.in/credentials/vaccination/v2';
const SECURITY_V2 = 'https://w3id.org/security/v2';
const XSD = 'http://www.w3.org/2001/XMLSchema#';

// The Appendix A V2 credential of the DIVOC 1.24 reimplementation notes, in
// DIVOC's key order. A new object on every call.
function appendixV2() {
  return {
    '@context': [CREDENTIALS_V1, COWIN_V1],
    type: ['VerifiableCredential', 'ProofOfVaccinationCredential'],
    credentialSubject: {
      type: 'Person',
      id: 'did:in.gov.uidai.aadhaar:2342343334',
      refId: '12346',
      name: 'Bhaya Mitra',
      gender: 'Male',
      age: '27',
      nationality: 'Indian',
      address: {
        streetAddress: '444, 2nd Street',
        streetAddress2: '',
        district: 'Bengaluru',
        city: '',
        addressRegion: 'Karnataka',
        addressCountry: 'IND',
        postalCode: '560034',
      },
    },
    issuer: 'https://cowin.gov.in/',
    issuanceDate: '2021-05-01T10:05:00.000Z',
    evidence: [
      {
        id: 'https://cowin.gov.in/vaccine/123456789',
        infoUrl: 'https://cowin.gov.in/?123456789',
        certificateId: '123456789',
        type: ['Vaccination'],
        batch: 'MB3428BX',
        vaccine: 'Covishield',
        manufacturer: 'Serum Institute',
        date: '2021-05-01T10:00:00.000Z',
        effectiveStart: '2021-05-01',
        effectiveUntil: '2022-05-01',
        dose: 1,
        totalDoses: 2,
        verifier: { name: 'Sooraj Singh' },
        facility: {
          name: 'ABC Medical Center',
          address: {
            streetAddress: '123, Koramangala',
            streetAddress2: '',
            district: 'Bengaluru South',
            city: '',
            addressRegion: 'Karnataka',
            addressCountry: 'IND',
            postalCode: '560034',
          },
        },
        feedbackUrl: 'https://cowin.gov.in/?123456789',
      },
    ],
    nonTransferable: 'true',
  };
}

// The Appendix A V3 variant: vaccination context v2 plus dob, icd11Code and
// prophylaxis appended at the end of their objects.
function appendixV3() {
  const doc = appendixV2();
  doc['@context'] = [CREDENTIALS_V1, COWIN_V2];
  doc.credentialSubject.dob = '1994-11-30';
  doc.evidence[0].icd11Code = 'XM9QW8';
  doc.evidence[0].prophylaxis = 'COVID-19 vaccine, non-replicating viral vector';
  return doc;
}

// The credential shape issued in Jamaica (credentials v1 + vaccination v2 context,
// reduced subject, date-only vaccination date). Synthetic values.
function jamaicaShape() {
  return {
    '@context': [CREDENTIALS_V1, COWIN_V2],
    type: ['VerifiableCredential', 'ProofOfVaccinationCredential'],
    credentialSubject: {
      type: 'Person',
      id: '',
      refId: 'JM-000123',
      name: 'Jane Example',
      gender: 'Female',
      dob: '1980-02-15',
    },
    issuer: 'https://www.moh.gov.jm',
    issuanceDate: '2021-09-01T15:30:00.000Z',
    evidence: [
      {
        id: 'https://www.moh.gov.jm/vaccine/000123',
        certificateId: '000123',
        type: ['Vaccination'],
        batch: 'FA7812',
        vaccine: 'Pfizer-BioNTech COVID-19 Vaccine',
        manufacturer: 'Pfizer-BioNTech',
        icd11Code: 'XM8NQ0',
        prophylaxis: 'COVID-19 vaccine, mRNA based',
        date: '2021-08-20',
        effectiveStart: '2021-08-20',
        effectiveUntil: '2022-08-20',
        dose: 2,
        totalDoses: 2,
        verifier: { name: 'Nurse Example' },
        facility: { name: 'Example Health Centre', address: { addressCountry: 'JM' } },
      },
    ],
    nonTransferable: 'true',
  };
}

function variant(base, edit) {
  const doc = base();
  edit(doc);
  return doc;
}

// Returns JSON text of `doc` in which each string value equal to a key of
// `rawValues` is replaced by that key's raw JSON text.
function withRawValues(doc, rawValues) {
  let text = JSON.stringify(doc, null, 2);
  for (const [placeholder, raw] of Object.entries(rawValues)) {
    const quoted = JSON.stringify(placeholder);
    if (!text.includes(quoted)) {
      throw new Error(`placeholder ${placeholder} not found in the document`);
    }
    text = text.split(quoted).join(raw);
  }
  return text + '\n';
}

function doseText(rawDose) {
  return withRawValues(variant(appendixV2, doc => { doc.evidence[0].dose = '@RAW_DOSE@'; }), { '@RAW_DOSE@': rawDose });
}

function proofOptions(type) {
  return {
    '@context': SECURITY_V2,
    type,
    created: '2021-05-01T10:05:00Z',
    verificationMethod: 'did:india',
    proofPurpose: 'assertionMethod',
  };
}

const DEV_CERTIFICATES = [
  'divoc-dev-ed25519-divocdev-v1',
  'divoc-dev-rsa-cowin-v1-commented',
  'divoc-dev-rsa-divocdev-v1',
  'divoc-dev-rsa-divocdev-v1-tampered-subject-id',
];

const cases = [
  // Appendix A and the proof options.
  {
    name: 'appendix-a-v2',
    description: 'Appendix A V2 credential; SHA-256 must be 7548288542e69ef74f2a0b31dacb524556dc0d286249bd4bdf14f09f47af7574',
    doc: appendixV2(),
  },
  {
    name: 'appendix-a-v3',
    description: 'Appendix A V3 credential; SHA-256 must be f001e9febd3b8545533a93b36d3dd3e7163fb6ecd6288851ad34c00bf84ea5b9',
    doc: appendixV3(),
  },
  {
    name: 'proof-options-ed25519',
    description: 'Ed25519Signature2018 proof options with the security v2 context',
    doc: proofOptions('Ed25519Signature2018'),
  },
  {
    name: 'proof-options-rsa',
    description: 'RsaSignature2018 proof options with the security v2 context',
    doc: proofOptions('RsaSignature2018'),
  },

  // DIVOC development certificates, copied into the fixture folder.
  ...DEV_CERTIFICATES.map(name => ({
    name,
    description: 'DIVOC development certificate; the expected N-Quads are those of the document without proof',
    fromFile: true,
  })),
  ...DEV_CERTIFICATES.map(name => ({
    name: `${name}.proof-options`,
    description: `proof options of ${name}: its proof without jws, with the security v2 context`,
    proofOf: name,
  })),

  // credentialSubject.id and other @id values.
  {
    name: 'subject-id-empty',
    description: 'credentialSubject.id "" is a relative IRI, so the subject link and all subject quads are dropped',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = ''; }),
  },
  {
    name: 'subject-id-no-scheme',
    description: 'credentialSubject.id without a scheme ("872550100V") is relative and dropped with all subject quads',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = '872550100V'; }),
  },
  {
    name: 'subject-id-with-space',
    description: 'credentialSubject.id "did:x y" counts as absolute (only the scheme is checked) and is written unescaped',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = 'did:x y'; }),
  },
  {
    name: 'subject-id-blank-node',
    description: 'credentialSubject.id "_:b0" is a blank node label and gets relabelled, without clashing with generated labels',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = '_:b0'; }),
  },
  {
    name: 'subject-id-blank-node-c14n-label',
    description: 'credentialSubject.id "_:c14n0" is relabelled like any blank node before canonical labels are issued',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = '_:c14n0'; }),
  },
  {
    name: 'subject-id-scheme-with-comma',
    description: 'id "did,x:1" is absolute because jsonld.js accepts the range "+-." (which includes ",") in a scheme',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = 'did,x:1'; }),
  },
  {
    name: 'subject-id-scheme-leading-digit',
    description: 'id "1did:x" is relative because a scheme must start with a letter; the subject quads are dropped',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = '1did:x'; }),
  },
  {
    name: 'subject-id-unusual-characters',
    description: 'IRI characters that N-Quads forbids (<, >, ", {, }, |, ^, backtick, backslash, é) are written unescaped',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = 'did:é<>"{}|^`\\x'; }),
  },
  {
    name: 'evidence-id-relative',
    description: 'relative evidence id: the evidence link and every evidence quad are dropped, nested blank nodes stay',
    doc: variant(appendixV2, doc => { doc.evidence[0].id = 'vaccine/123456789'; }),
  },
  {
    name: 'evidence-id-string-reference',
    description: 'evidence given as an IRI string (the credentials context types evidence as @id)',
    doc: variant(appendixV2, doc => { doc.evidence = 'https://cowin.gov.in/vaccine/123456789'; }),
  },
  {
    name: 'subject-and-evidence-share-id',
    description: 'credentialSubject and evidence with the same id merge into one node with both types',
    doc: variant(appendixV2, doc => { doc.credentialSubject.id = 'https://cowin.gov.in/vaccine/123456789'; }),
  },
  {
    name: 'issuer-object',
    description: 'issuer as an object {"id": ...} gives the same issuer quad as the string form',
    doc: variant(appendixV2, doc => { doc.issuer = { id: 'https://cowin.gov.in/' }; }),
  },
  {
    name: 'issuer-relative',
    description: 'issuer "cowin" is a relative IRI, so the issuer quad is dropped',
    doc: variant(appendixV2, doc => { doc.issuer = 'cowin'; }),
  },
  {
    name: 'keyword-id-type-keys',
    description: '"@id" and "@type" used directly as keys instead of the id/type aliases',
    doc: variant(appendixV2, doc => {
      const subject = doc.credentialSubject;
      delete subject.type;
      delete subject.id;
      doc.credentialSubject = { '@type': 'Person', '@id': 'did:in.gov.uidai.aadhaar:2342343334', ...subject };
      doc['@type'] = doc.type;
      delete doc.type;
    }),
  },

  // The Jamaica credential shape.
  {
    name: 'jamaica-shape',
    description: 'Jamaica shape: credentials v1 + vaccination v2, subject id "", date-only vaccination date, minimal facility',
    doc: jamaicaShape(),
  },

  // Numbers.
  {
    name: 'dose-empty-string',
    description: 'dose and totalDoses "" (as in the DIVOC development certificates) collapse into one plain literal',
    doc: variant(appendixV2, doc => { doc.evidence[0].dose = ''; doc.evidence[0].totalDoses = ''; }),
  },
  {
    name: 'dose-equal-total-doses',
    description: 'dose 2 and totalDoses 2 map to the same predicate and collapse into one xsd:integer quad',
    doc: variant(appendixV2, doc => { doc.evidence[0].dose = 2; }),
  },
  {
    name: 'dose-double-2.5',
    description: 'dose 2.5 becomes "2.5E0"^^xsd:double',
    text: doseText('2.5'),
  },
  {
    name: 'dose-double-0.1',
    description: 'dose 0.1 becomes "1.0E-1"^^xsd:double',
    text: doseText('0.1'),
  },
  {
    name: 'dose-1e21',
    description: 'dose 1e21: String() has no ".", so it takes the integer path and toFixed(0) gives "1e+21"^^xsd:integer',
    text: doseText('1e21'),
  },
  {
    name: 'dose-negative-zero',
    description: 'dose -0 becomes "0"^^xsd:integer',
    text: doseText('-0'),
  },
  {
    name: 'dose-large-integer',
    description: 'dose 12345678901234567890 parses to the double 12345678901234567168, written as that integer',
    text: doseText('12345678901234567890'),
  },
  {
    name: 'dose-integer-written-as-1.0',
    description: 'dose 1.0 parses to the number 1, whose String() has no ".", so it is "1"^^xsd:integer',
    text: doseText('1.0'),
  },
  {
    name: 'dose-number-spellings',
    description: 'an array of numbers: 1e-7 and -1e-7 become "0" and "-0" integers, 1.7976931348623157e308 loses its 17th digit',
    text: doseText('[1e-7, -1e-7, 1E2, -1, 1.5e300, 1e300, 5e-324, 9007199254740993, 123456789.125, 0.000001, -0.5, 1.7976931348623157e308, 1e20]'),
  },
  {
    name: 'age-as-number',
    description: 'age as the JSON number 27 instead of the string "27"',
    doc: variant(appendixV2, doc => { doc.credentialSubject.age = 27; }),
  },

  // Booleans and nulls.
  {
    name: 'boolean-values',
    description: 'true and false become xsd:boolean literals',
    doc: variant(appendixV2, doc => { doc.nonTransferable = true; doc.evidence[0].dose = false; }),
  },
  {
    name: 'null-values',
    description: 'null property values and null array members are dropped',
    doc: variant(appendixV2, doc => {
      doc.credentialSubject.gender = null;
      doc.credentialSubject.address = null;
      doc.evidence[0].verifier = null;
      doc.evidence[0].batch = ['MB3428BX', null];
    }),
  },

  // Strings.
  {
    name: 'string-quote-backslash',
    description: 'literal with " and \\, the two characters escaped besides \\n and \\r',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = 'Bhaya "B" Mitra \\ C:\\path'; }),
  },
  {
    name: 'string-newline-tab-cr',
    description: 'newline and carriage return are escaped as \\n and \\r, tab is written raw',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = 'line1\nline2\r\nend\twith tab'; }),
  },
  {
    name: 'string-control-characters',
    description: 'U+0008, U+000C, U+0001 and U+007F are written raw, not escaped',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = 'b\u0008f\u000cs\u0001d\u007fend'; }),
  },
  {
    name: 'string-emoji-non-bmp',
    description: 'emoji and other non-BMP characters are written raw as UTF-8',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = 'Mitra 😷💉 𝔄𝔅 𠜎'; }),
  },
  {
    name: 'string-non-nfc',
    description: 'decomposed "Zoe\\u0308" and composed "Zo\\u00eb" stay different literals (no Unicode normalization)',
    doc: variant(appendixV2, doc => {
      doc.credentialSubject.name = 'Zoe\u0308';
      doc.evidence[0].facility.name = 'Zo\u00eb';
    }),
  },
  {
    name: 'string-sort-utf16-order',
    description: 'quads are sorted by UTF-16 code units: "\\u{1F600}" (surrogate D83D) sorts before "\\uE000" and "\\uFF21"',
    doc: variant(appendixV2, doc => {
      doc.credentialSubject.name = ['\uFF21', '\u{1F600}', '\uE000', 'A'];
      doc.credentialSubject.address.streetAddress = ['x\uFF21', 'x\u{1F600}'];
      doc.evidence[0].facility.address.streetAddress = ['x\uE000', 'x\u{1F601}'];
    }),
  },
  {
    name: 'string-duplicate-values',
    description: 'an array with the same string twice yields one quad',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = ['Bhaya Mitra', 'Bhaya Mitra']; }),
  },

  // Arrays and multiplicity.
  {
    name: 'empty-arrays',
    description: 'empty arrays produce no quads',
    doc: variant(appendixV2, doc => {
      doc.credentialSubject.nationality = [];
      doc.evidence[0].batch = [];
    }),
  },
  {
    name: 'nested-string-arrays',
    description: 'nested arrays of strings are flattened into separate literals',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = [['Bhaya', 'Mitra'], 'B. Mitra', [['deep']]]; }),
  },
  {
    name: 'two-evidence-entries',
    description: 'two evidence entries with different ids',
    doc: variant(appendixV2, doc => {
      const second = structuredClone(doc.evidence[0]);
      second.id = 'https://cowin.gov.in/vaccine/987654321';
      second.certificateId = '987654321';
      second.dose = 2;
      second.date = '2021-06-01T10:00:00.000Z';
      doc.evidence.push(second);
    }),
  },
  {
    name: 'identical-blank-evidence',
    description: 'two evidence entries without id and with identical content: blank nodes that need n-degree hashing',
    doc: variant(appendixV2, doc => {
      delete doc.evidence[0].id;
      doc.evidence.push(structuredClone(doc.evidence[0]));
    }),
  },
  {
    name: 'identical-blank-addresses',
    description: 'blank subject and blank facility with identical addresses: the two addresses get equal first-degree hashes',
    doc: variant(appendixV2, doc => {
      delete doc.credentialSubject.id;
      doc.evidence[0].facility.address = structuredClone(doc.credentialSubject.address);
    }),
  },
  {
    name: 'type-order-swapped',
    description: 'credential types in the other order give the same dataset',
    doc: variant(appendixV2, doc => { doc.type = ['ProofOfVaccinationCredential', 'VerifiableCredential']; }),
  },
  {
    name: 'evidence-type-string',
    description: 'evidence type as the string "Vaccination" instead of an array',
    doc: variant(appendixV2, doc => { doc.evidence[0].type = 'Vaccination'; }),
  },

  // Undefined terms and types (strict expansion map).
  {
    name: 'unknown-property',
    description: 'a property the context does not define fails with the strict expansion map',
    doc: variant(appendixV2, doc => { doc.credentialSubject.mobile = '9999999999'; }),
  },
  {
    name: 'dob-under-v1-context',
    description: 'dob is defined only in the vaccination v2 context, so it fails under v1',
    doc: variant(appendixV2, doc => { doc.credentialSubject.dob = '1994-11-30'; }),
  },
  {
    name: 'nontransferable-without-credential-type',
    description: 'nonTransferable is scoped to the ProofOfVaccinationCredential type and fails without it',
    doc: variant(appendixV2, doc => { doc.type = ['VerifiableCredential']; }),
  },
  {
    name: 'evidence-without-type',
    description: 'evidence terms are scoped to the Vaccination type and fail without it',
    doc: variant(appendixV2, doc => { delete doc.evidence[0].type; }),
  },
  {
    name: 'subject-address-name',
    description: 'name inside the subject address fails: the Person type-scoped context does not propagate',
    doc: variant(appendixV2, doc => { doc.credentialSubject.address.name = 'Home'; }),
  },
  {
    name: 'facility-address-name',
    description: 'name inside the facility address works: the facility property-scoped context propagates',
    doc: variant(appendixV2, doc => { doc.evidence[0].facility.address.name = 'Main Building'; }),
  },
  {
    name: 'verifier-date',
    description: 'date inside verifier fails: the Vaccination type-scoped context does not propagate',
    doc: variant(appendixV2, doc => { doc.evidence[0].verifier.date = '2021-05-01'; }),
  },
  {
    name: 'type-not-in-context',
    description: 'type "Foo" expands to a relative IRI; its rdf:type quad is dropped without an error',
    doc: variant(appendixV2, doc => { doc.type = ['VerifiableCredential', 'ProofOfVaccinationCredential', 'Foo']; }),
  },
  {
    name: 'type-compact-and-absolute-iris',
    description: 'evidence types "schema:Thing" (expands), "vac:Other" (stays literal) and an absolute IRI',
    doc: variant(appendixV2, doc => { doc.evidence[0].type = ['Vaccination', 'schema:Thing', 'vac:Other', 'https://example.org/T']; }),
  },
  {
    name: 'absolute-iri-keys',
    description: 'keys "vac:foo" (not a prefix, kept as the IRI vac:foo), "schema:foo" and "https://example.org/p"',
    doc: variant(appendixV2, doc => {
      doc.credentialSubject['vac:foo'] = 'v';
      doc.credentialSubject['schema:foo'] = 's';
      doc.credentialSubject['https://example.org/p'] = 'p';
    }),
  },
  {
    name: 'credentials-prefix-keys',
    description: 'keys "cred:x" and "sec:y" on the credential, prefixes defined by the VerifiableCredential scoped context',
    doc: variant(appendixV2, doc => { doc['cred:x'] = 'c'; doc['sec:y'] = 's'; }),
  },
  {
    name: 'blank-node-property-key',
    description: 'key "_:p" expands to a blank node predicate, which is dropped without an error',
    doc: variant(appendixV2, doc => { doc.credentialSubject['_:p'] = 'dropped'; }),
  },
  {
    name: 'keyword-like-key',
    description: 'key "@foo" looks like a keyword but is not one',
    doc: variant(appendixV2, doc => { doc.credentialSubject['@foo'] = 'x'; }),
  },
  {
    name: 'empty-key',
    description: 'the key "" is dropped without an error: strictExpansionMap tests unmappedProperty for truthiness',
    doc: variant(appendixV2, doc => { doc.credentialSubject[''] = 'x'; }),
  },

  // Terms with special definitions.
  {
    name: 'verifier-id-is-schema-id',
    description: 'verifier.id is schema:id (the verifier context redefines id), so it is a literal on a blank node',
    doc: variant(appendixV2, doc => { doc.evidence[0].verifier.id = 'did:verifier:42'; }),
  },
  {
    name: 'facility-id-is-node-id',
    description: 'facility.id keeps the top-level id -> @id alias, so the facility becomes a named node',
    doc: variant(appendixV2, doc => { doc.evidence[0].facility.id = 'https://cowin.gov.in/facility/42'; }),
  },
  {
    name: 'sign-image-and-seal-image',
    description: 'verifier sign-image and facility seal-image map to schema:image',
    doc: variant(appendixV2, doc => {
      doc.evidence[0].verifier['sign-image'] = 'data:image/png;base64,iVBORw0KGgo=';
      doc.evidence[0].facility['seal-image'] = 'data:image/png;base64,AAAA';
    }),
  },
  {
    name: 'issuance-date-not-a-date',
    description: 'issuanceDate is typed xsd:dateTime without validating the lexical form',
    doc: variant(appendixV2, doc => { doc.issuanceDate = 'not a date'; }),
  },
  {
    name: 'issuance-date-number',
    description: 'a number under a term typed xsd:dateTime keeps that datatype, written with toFixed(0)',
    doc: variant(appendixV2, doc => { doc.issuanceDate = 1619863500; }),
  },
  {
    name: 'expiration-date',
    description: 'expirationDate from the credentials context, typed xsd:dateTime',
    doc: variant(appendixV2, doc => { doc.expirationDate = '2022-05-01T00:00:00Z'; }),
  },

  // Value objects and containers.
  {
    name: 'value-object-language',
    description: 'name as {"@value", "@language"} gives a language-tagged literal; expansion lower-cases the tag',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = { '@value': 'Bhaya Mitra', '@language': 'EN-in' }; }),
  },
  {
    name: 'value-object-typed',
    description: 'value objects with @type: string to xsd:double is reformatted, "xsd:double" stays a literal IRI here',
    doc: variant(appendixV2, doc => {
      doc.evidence[0].dose = { '@value': '5', '@type': `${XSD}double` };
      doc.evidence[0].totalDoses = { '@value': '01', '@type': `${XSD}integer` };
      doc.credentialSubject.age = { '@value': 27, '@type': `${XSD}double` };
      doc.credentialSubject.refId = { '@value': '5', '@type': 'xsd:double' };
      doc.credentialSubject.gender = { '@value': true, '@type': 'https://example.org/t' };
    }),
  },
  {
    name: 'value-object-json-type',
    description: 'a value object with "@type": "@json" becomes an rdf:JSON literal in JCS form',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = { '@value': { b: [1, 2.5, 'x'], a: null }, '@type': '@json' }; }),
  },
  {
    name: 'value-object-invalid',
    description: 'a value object whose @value is an object without "@type": "@json" is invalid',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = { '@value': { first: 'Bhaya' } }; }),
  },
  {
    name: 'list-object',
    description: 'an explicit {"@list": [...]} value becomes an rdf:first/rdf:rest collection',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = { '@list': ['Bhaya', 'Mitra'] }; }),
  },
  {
    name: 'set-object',
    description: 'an explicit {"@set": [...]} value behaves like a plain array',
    doc: variant(appendixV2, doc => { doc.credentialSubject.name = { '@set': ['Bhaya', 'Mitra'] }; }),
  },
  {
    name: 'security-v2-list-container',
    description: 'capabilityChain has "@container": "@list" in security v2: a collection, and rdf:nil when empty',
    doc: {
      '@context': SECURITY_V2,
      id: 'urn:example:capability',
      capabilityChain: ['https://example.org/root', 'https://example.org/delegated'],
      caveat: { id: 'urn:example:caveat', capabilityChain: [] },
    },
  },
  {
    name: 'security-v2-nested-proof-graph',
    description: 'a nested proof ("@container": "@graph" in security v2) becomes a named graph with a blank node label',
    doc: {
      '@context': SECURITY_V2,
      id: 'urn:example:controller',
      assertionMethod: {
        id: 'did:india',
        proof: proofOptions('Ed25519Signature2018'),
      },
    },
  },

  // @context variants.
  {
    name: 'context-single-string-credentials',
    description: '"@context" as one string: the credentials v1 context alone',
    doc: {
      '@context': CREDENTIALS_V1,
      type: 'VerifiableCredential',
      issuer: 'https://cowin.gov.in/',
      issuanceDate: '2021-05-01T10:05:00.000Z',
      credentialSubject: { id: 'did:example:1' },
    },
  },
  {
    name: 'context-single-string-vaccination',
    description: '"@context" as one string: the vaccination v1 context alone with a Person node',
    doc: { '@context': COWIN_V1, type: 'Person', id: 'did:example:1', name: 'Bhaya Mitra', age: '27' },
  },
  {
    name: 'context-order-swapped',
    description: 'vaccination context before credentials context; the identical protected id/type definitions are allowed',
    doc: variant(appendixV2, doc => { doc['@context'] = [COWIN_V1, CREDENTIALS_V1]; }),
  },
  {
    name: 'context-embedded-object',
    description: 'an embedded context object adding the term "extra"',
    doc: variant(appendixV2, doc => {
      doc['@context'].push({ extra: 'https://example.org/extra#p' });
      doc.extra = 'value';
    }),
  },
  {
    name: 'context-redefine-protected-term',
    description: 'an embedded context redefining the protected top-level term "Person" fails',
    doc: variant(appendixV2, doc => { doc['@context'].push({ Person: 'https://example.org/Person' }); }),
  },
  {
    name: 'context-define-type-scoped-term',
    description: 'a top-level "issuer" definition is allowed and then overridden by the VerifiableCredential scoped context',
    doc: variant(appendixV2, doc => { doc['@context'].push({ issuer: 'https://example.org/issuer' }); }),
  },
  {
    name: 'context-null-entry',
    description: 'null in the @context array would clear protected terms and fails',
    doc: variant(appendixV2, doc => { doc['@context'].push(null); }),
  },
  {
    name: 'context-vocab',
    description: 'an embedded @vocab maps an otherwise undefined property, so strict expansion does not fail',
    doc: variant(appendixV2, doc => {
      doc['@context'].push({ '@vocab': 'https://example.org/vocab#' });
      doc.credentialSubject.mobile = '9999999999';
    }),
  },
  {
    name: 'context-base',
    description: 'an embedded @base resolves a relative evidence id with dot segments, query and fragment',
    doc: variant(appendixV2, doc => {
      doc['@context'].push({ '@base': 'https://example.org/a/b/' });
      doc.evidence[0].id = '../vaccine/./123456789?x=1#frag';
    }),
  },
  {
    name: 'context-unknown-url',
    description: 'a context URL the document loader does not know fails (the loader never fetches)',
    doc: variant(appendixV2, doc => { doc['@context'].push('https://example.org/unknown-context'); }),
  },
];

module.exports = { cases, DEV_CERTIFICATES };
