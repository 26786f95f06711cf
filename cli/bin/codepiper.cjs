#!/usr/bin/env node
import '../dist/codepiper.mjs';
