def test_class_mode_gives_each_learner_their_own_model_and_rejects_unknown_modes(monkeypatch):
    import pytest
    from workbench.core.settings import SettingsError, get_settings

    monkeypatch.delenv("WORKBENCH_MODE", raising=False)
    get_settings.cache_clear()
    solo = get_settings()
    assert not solo.class_mode and solo.learner_model_name("Ana") == solo.model_name
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    klass = get_settings()
    assert klass.class_mode
    assert klass.learner_model_name("Ana") != klass.learner_model_name("ana") != klass.model_name
    assert klass.learner_model_name("Ana").startswith(f"{klass.model_name}-Ana-")
    monkeypatch.setenv("WORKBENCH_MODE", "classroom")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="WORKBENCH_MODE"):
        get_settings()
