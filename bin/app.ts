#!/usr/bin/env node
import { buildApp } from '../lib/app-builder';

buildApp().synth();
