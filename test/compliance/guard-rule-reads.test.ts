import * as fs from 'node:fs';
import { controlTowerRuleIndex } from '../../lib/compliance/cfn-guard';
import { readsPropertiesByKeyOnly, tokenize } from '../../lib/compliance/guard-rule-reads';

/** A rule file in the Control Tower shape: resources selected by type, their properties given to `check`. */
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
`;

describe('readsPropertiesByKeyOnly', () => {
  it('accepts properties read by key, in blocks, filters and rules called with the map', () => {
    expect(
      readsPropertiesByKeyOnly(
        ruleFile(
          `    %queue [ filter_encrypted(this) ] {
        KmsMasterKeyId exists
        RedrivePolicy {
            deadLetterTargetArn exists
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
    ).toBe(true);
  });

  it.each([
    ['a wildcard over the map', '    %queue.* exists'],
    ['a wildcard index over the map', '    some %queue[*] == "x"'],
    ['a wildcard inside a block over the map', '    %queue { this.* exists }'],
    ['a keys filter over the map', '    %queue[ keys == /^Kms/ ] not empty'],
    ['the map compared whole', '    %queue { this == { "KmsMasterKeyId": "alias/aws/sqs" } }'],
    ['the map given to a built-in function', '    %queue { count(this) > 1 }'],
    ['the map given a new name', '    %queue { let q = this\n %q.KmsMasterKeyId exists }'],
    ['the map indexed', '    %queue[0] exists'],
  ])('refuses %s', (_, check) => {
    expect(readsPropertiesByKeyOnly(ruleFile(check))).toBe(false);
  });

  it('follows the map into the rules it is given to, and refuses what they do with it', () => {
    const passOn = '    %queue [ filter(this) ] { KmsMasterKeyId exists }';
    expect(readsPropertiesByKeyOnly(ruleFile(passOn, 'rule filter(q) { %q { KmsMasterKeyId exists } }'))).toBe(true);
    expect(readsPropertiesByKeyOnly(ruleFile(passOn, 'rule filter(q) { %q { this.* exists } }'))).toBe(false);
    // A rule called from inside a block over the map may see it as `this`.
    const call = '    %queue { inner }';
    expect(readsPropertiesByKeyOnly(ruleFile(call, 'rule inner { KmsMasterKeyId exists }'))).toBe(true);
    expect(readsPropertiesByKeyOnly(ruleFile(call, 'rule inner { this[*] exists }'))).toBe(false);
  });

  it('refuses properties read other than as a rule argument', () => {
    expect(readsPropertiesByKeyOnly(ruleFile('    %queue exists', 'rule other { %queues.Properties.* exists }'))).toBe(
      false,
    );
    expect(readsPropertiesByKeyOnly(ruleFile('    %queue exists', 'rule broken { %queues {'))).toBe(false);
  });

  it('reads comments, messages, strings and regexes as no code', () => {
    expect(tokenize(`let A = "x.* { # " # this.*\nrule r { /a\\/b.*/ << this.* >> 'q' }`)).toEqual([
      'let',
      'A',
      '=',
      '""',
      'rule',
      'r',
      '{',
      '//',
      '""',
      '}',
    ]);
  });

  it('recognises the shipped Control Tower rules, all but those that alias or enumerate the map', () => {
    const unsafe = controlTowerRuleIndex()
      .filter((r) => !readsPropertiesByKeyOnly(fs.readFileSync(r.file, 'utf8')))
      .map((r) => r.file.split('/').pop());
    // Each of these gives `this` (the properties map) a name or compares it whole, which this analysis does
    // not follow; their resource types keep every property.
    expect(unsafe.sort()).toEqual([
      'ct-cloudfront-pr-8.guard',
      'ct-ec2-pr-4.guard',
      'ct-elasticloadbalancing-pr-12.guard',
    ]);
  });
});
