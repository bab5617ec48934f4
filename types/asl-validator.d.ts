// asl-validator 4 ships JavaScript only; this covers the call the test harness makes.
declare module 'asl-validator' {
  namespace aslValidator {
    interface ValidationOptions {
      /** Check JSONPath syntax in InputPath, OutputPath, ResultPath and friends. @default true */
      readonly checkPaths?: boolean;
      /** Check that Task `Resource` values are well-formed ARNs. @default true */
      readonly checkArn?: boolean;
    }
    interface StateMachineError {
      'Error code': string;
      Message: string;
      schemaError?: { instancePath: string; schemaPath: string };
    }
    interface ValidationResult {
      isValid: boolean;
      errors: StateMachineError[];
      errorsText: (separator?: string) => string;
    }
  }
  /** Validates an Amazon States Language definition. Adds `QueryLanguage` to states it visits: pass a copy. */
  function aslValidator(definition: unknown, options?: aslValidator.ValidationOptions): aslValidator.ValidationResult;
  export = aslValidator;
}
