"""What every chapter shares: settings, data, models, tracking, services, progress, i18n."""
