import * as fs from 'node:fs';
import { controlTowerRuleIndex, REVIEWED_GUARD_PLUGIN_VERSION } from '../../lib/compliance/cfn-guard';
import { guardReads, tokenize } from '../../lib/compliance/guard-rule-reads';

/** A rule file in the Control Tower shape: queues selected by type, their properties given to `check`. */
const ruleFile = (check: string, extra = '') => `
let QUEUE_TYPE = "AWS::SQS::Queue"
let INPUT_DOCUMENT = this
let queues = Resources.*[ Type == %QUEUE_TYPE ]

rule queue_check when is_cfn_template(%INPUT_DOCUMENT)
                      %queues not empty {
    check(%queues.Properties)
        <<
        [CT.SQS.PR.X]: Require something # not a comment, and this.* in a message is not code
        >>
}

rule queue_check when is_cfn_hook(%INPUT_DOCUMENT, %QUEUE_TYPE) {
    check(%INPUT_DOCUMENT.%QUEUE_TYPE.resourceProperties)
}

rule check(queue) {
${check}
}
${extra}
rule is_cfn_template(doc) {
    %doc {
        AWSTemplateFormatVersion exists  or
        Resources exists
    }
}

rule is_cfn_hook(doc, RESOURCE_TYPE) {
    %doc.%RESOURCE_TYPE.resourceProperties exists
}

rule check_local_references(doc, reference_properties, referenced_resource_type) {
    %reference_properties {
        'Fn::GetAtt' {
            query_for_resource(%doc, this[0], %referenced_resource_type)
        } or Ref {
            query_for_resource(%doc, this, %referenced_resource_type)
        }
    }
}

rule query_for_resource(doc, resource_key, referenced_resource_type) {
    let referenced_resource = %doc.Resources[ keys == %resource_key ]
    %referenced_resource not empty
    %referenced_resource {
        Type == %referenced_resource_type
    }
}
`;

describe('guardReads', () => {
  it('says `keys` for properties read by key, in blocks, filters and rules called with the map', () => {
    expect(
      guardReads(
        ruleFile(
          `    %queue [ filter_encrypted(this) ] {
        KmsMasterKeyId exists
        RedrivePolicy {
            deadLetterTargetArn exists
            check_local_references(%INPUT_DOCUMENT, deadLetterTargetArn, "AWS::SQS::Queue")
            this is_struct
        }
        some Tags[*] { Key == /^team$/ }
        check_string(QueueName)
        %queue.FifoQueue == true
    }`,
          `
rule filter_encrypted(queue) {
    %queue {
        this is_struct
        this not empty
        SqsManagedSseEnabled !exists or SqsManagedSseEnabled == false
        when MessageRetentionPeriod exists { MessageRetentionPeriod <= 345600 }
    }
}
rule check_string(value) {
    %value {
        this is_string
        this != /\\A\\s*\\z/
        this[0] exists
    }
}`,
        ),
      ),
    ).toBe('keys');
  });

  // Each of these can see a key of the properties map it does not name: the types it checks keep theirs.
  it.each([
    ['a wildcard over the map', '    %queue.* exists'],
    ['a wildcard index over the map', '    some %queue[*] == "x"'],
    ['a keys filter over the map', '    %queue[ keys == /^Kms/ ] { this exists }'],
    ['the map compared whole', '    %queue { this == { "KmsMasterKeyId": "alias/aws/sqs" } }'],
    ['the map given to a built-in function', '    %queue { count(this) > 1 }'],
    ['the map given a new name', '    %queue { let q = this\n %q.KmsMasterKeyId exists }'],
    ['the map given a new name before a check-like key', '    let v = %queue\n    is_x !exists\n    %v.* != "a"'],
    ['the map indexed', '    %queue[0] exists'],
    ['a filtered map compared whole', '    %queue[ KmsMasterKeyId exists ] == { "KmsMasterKeyId": "k" }'],
    ['a filtered map given to a rule', '    inner(%queue[ KmsMasterKeyId exists ])', 'rule inner(m) { %m.* != "a" }'],
    ['a filtered map given a new name', '    let v = %queue[ KmsMasterKeyId exists ]\n    %v.* != "a"'],
    ['a KEYS filter over the map', '    %queue[ KEYS == /^Zo/ ] { this is_int }'],
    ['a block after `not empty` over the map', '    %queue not empty { this != { "KmsMasterKeyId": "k" } }'],
  ])('says `types` for %s', (_, check, extra = '') => {
    expect(guardReads(ruleFile(check, extra))).toBe('types');
  });

  // Each of these may read the properties of resources whose type it does not select by a literal, or read
  // resources or the root in a way not followed: every template of its runs stays whole.
  it.each([
    ['a wildcard over `this`', '    %queue { this.* exists }'],
    ['a wildcard after a filter', '    %queue[ KmsMasterKeyId exists ].* != "a"'],
    ['a named capture over the map', '    %queue[ k ] != "a"'],
    ['a named capture inside a block', '    %queue { this[ k ] != "a" }'],
    ['Properties spelt as a string', '    %queue exists', 'rule other { %queues."Properties" { this.* exists } }'],
    [
      'Properties reached by interpolation',
      '    %queue exists',
      'let P = %INPUT_DOCUMENT.Resources\nrule o { %P.* exists }',
    ],
    ['resources enumerated', '    %queue exists', 'rule other { let n = count(%queues.*.*)\n %n <= 2 }'],
    ['the root enumerated', '    %queue exists', 'rule other { %INPUT_DOCUMENT.Resources.*.* exists }'],
    ['this at the top of a rule', '    %queue exists', 'rule other { this.Resources.* exists }'],
    ['Properties in a list, not given to a rule', '    %queue exists', 'let x = [1, %queues.Properties, 2]'],
    [
      'Properties read other than as a rule argument',
      '    %queue exists',
      'rule other { %queues.Properties.* exists }',
    ],
    ['a broken file', '    %queue exists', 'rule broken { %queues {'],
    // Found by a second review: cfn-guard's keywords in capitals, range literals, struct literals in a
    // rule's condition, type blocks.
    ['a wildcard over THIS', '    %queue { THIS.* != "zzz" }'],
    ['a range literal', '    %queue { KmsMasterKeyId in r[",~] }'],
    [
      'a struct literal in a rule condition',
      '    %queue exists',
      'let L = 1\nrule sneaky when %L != { "a": 1 } or %L == 1 { Resources.T[ keys == /^Prop/ ] { TopicName != "t" } }',
    ],
    [
      'a WHEN block at the top of a rule',
      '    %queue exists',
      'let L = 1\nrule sneaky { WHEN %L == 1 { Resources.T[ keys == /^Prop/ ] { TopicName != "t" } } }',
    ],
    [
      'THIS at the top of a rule',
      '    %queue exists',
      'rule sneaky { THIS.Resources.T[ keys == /^Prop/ ] { TopicName != "t" } }',
    ],
    ['a type block', '    %queue exists', 'AWS::SNS::Topic { this[ keys == /^Prop/ ] { TopicName != "t" } }'],
    // Found by a third review: a block after a shape check, a root filter named at the top level, a query
    // carried on to the next line, a lookup outside a rule.
    [
      'a block after `not empty` over resources',
      '    %queue exists',
      'rule zoo { %queues not empty { this[ keys == /^Prop/ ] empty } }',
    ],
    [
      "a block after `!empty` over the root's Resources",
      '    %queue exists',
      'rule other { Resources !empty { T[ keys == /^Prop/ ] { TopicName != "h" } } }',
    ],
    [
      'the root filtered at the top level',
      '    %queue exists',
      'let x = this[ keys == /^Resources$/ ]\nrule other { %x.T exists }',
    ],
    [
      'a lookup outside a rule',
      '    %queue exists',
      'let ANY = /.*/\nlet x = %INPUT_DOCUMENT.Resources[ keys == %ANY ]\nrule other { %x.*.TopicName != "h" }',
    ],
  ])('says `unknown` for %s', (_, check, extra = '') => {
    expect(guardReads(ruleFile(check, extra))).toBe('unknown');
  });

  it('says `unknown` when resources are selected other than by a literal type', () => {
    const selecting = (selection: string) =>
      guardReads(ruleFile('    %queue { Foo exists }').replace('Resources.*[ Type == %QUEUE_TYPE ]', selection));
    expect(selecting('Resources.*[ Type == %QUEUE_TYPE or Type == "AWS::SNS::Topic" ]')).toBe('keys');
    expect(selecting('Resources.*[ Type != %QUEUE_TYPE ]')).toBe('unknown');
    expect(selecting('Resources.*[ Type == /SQS/ ]')).toBe('unknown');
    expect(selecting('Resources.*')).toBe('unknown');
    // Only the type names the rule index finds in the file: a resource of another type would lose its properties.
    expect(selecting('Resources.*[ Type == %QUEUE_TYPE or Type == "Custom::Queue" ]')).toBe('unknown');
    // `in` a string tests for a substring: AWS::SQS::Queue is in "AWS::SQS::QueuePolicy".
    expect(selecting('Resources.*[ Type in "AWS::SQS::QueuePolicy" ]')).toBe('unknown');
    expect(selecting('Resources.*[ Type in ["AWS::SQS::Queue", "AWS::SNS::Topic"] ]')).toBe('keys');
    // cfn-guard carries a query on across a line break before `[`.
    expect(selecting('Resources.*[ Type == %QUEUE_TYPE ]\n[ keys == /^Prop/ ]')).toBe('unknown');
    expect(guardReads(ruleFile('    %queue { Foo exists }').replace('"AWS::SQS::Queue"', '/.*/'))).toBe('unknown');
  });

  it('follows the map into the rules it is given to, and the default rule', () => {
    const passOn = '    %queue [ filter(this) ] { KmsMasterKeyId exists }';
    expect(guardReads(ruleFile(passOn, 'rule filter(q) { %q { KmsMasterKeyId exists } }'))).toBe('keys');
    expect(guardReads(ruleFile(passOn, 'rule filter(q) { %q { count(this) > 1 } }'))).toBe('types');
    // A rule called from inside a block over the map may see it as `this`.
    const call = '    %queue { inner }';
    expect(guardReads(ruleFile(call, 'rule inner { KmsMasterKeyId exists }'))).toBe('keys');
    expect(guardReads(ruleFile(call, 'rule inner { this[*] exists }'))).toBe('unknown');
    // A clause outside any rule (the file's default rule) gives the map too.
    expect(
      guardReads(
        ruleFile('    %queue.* != "a"').replace(
          /rule queue_check when is_cfn_template[^}]*\}/,
          'check(%queues.Properties)',
        ),
      ),
    ).toBe('types');
  });

  it('reads comments, messages, strings and regexes as no code, with backslashes as cfn-guard reads them', () => {
    expect(tokenize(`let A = "x.* { # " # this.*\nrule r { /a\\/b.*/ << this.* >> 'q' }`)).toEqual([
      'let',
      'A',
      '=',
      '"x.* { # "',
      'rule',
      'r',
      '{',
      '//',
      '"q"',
      '}',
    ]);
    // cfn-guard ends 'a\\' only at the next quote: what follows, up to there, is string.
    expect(tokenize(`x != 'a\\\\' or y != '\nz.* != "a"   # '`)).toEqual([
      'x',
      '!=',
      `"a\\' or y != "`,
      'z',
      '.',
      '*',
      '!=',
      '"a"',
    ]);
    expect(
      guardReads(
        ruleFile(`    %queue.KmsMasterKeyId != 'a\\\\' or %queue.KmsMasterKeyId != '\n    %queue.* != "a"   # '`),
      ),
    ).toBe('types');
  });

  it('was checked against the installed release of the rule files', () => {
    // After an upgrade of the plugin, templates are cut down for no rule file until someone runs
    // `npx tsx bench/cfn-guard-projection-fuzz.ts`, has the analysis reviewed against the new files, updates the
    // classification below and moves REVIEWED_GUARD_PLUGIN_VERSION (lib/compliance/cfn-guard.ts).
    const installed = JSON.parse(
      fs.readFileSync(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'), 'utf8'),
    ) as { version: string };
    expect(installed.version).toBe(REVIEWED_GUARD_PLUGIN_VERSION);
  });

  it('classifies the shipped Control Tower rules', () => {
    const byAnswer: Record<string, string[]> = { keys: [], types: [], unknown: [] };
    for (const r of controlTowerRuleIndex())
      byAnswer[guardReads(fs.readFileSync(r.file, 'utf8'))]!.push(r.file.split('/').pop()!);
    expect(byAnswer.keys).toHaveLength(234);
    // These give the map (`this`) a name: their types keep every property.
    expect(byAnswer.types!.sort()).toEqual([
      'ct-cloudfront-pr-8.guard',
      'ct-ec2-pr-4.guard',
      'ct-elasticloadbalancing-pr-12.guard',
    ]);
    expect(byAnswer.unknown).toEqual([]);
  });
});
